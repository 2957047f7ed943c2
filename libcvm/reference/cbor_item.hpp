// A thin owner of libcbor items, so the CoRIM writer reads as the CDDL it
// follows. Integers take their shortest encoding (libcbor encodes an item at
// the width it was built with), maps keep the order given: callers add keys
// in ascending order, which for the small integer keys of CoRIM is RFC 8949
// §4.2.1's deterministic order.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "cvm/bytes.hpp"

struct cbor_item_t;

namespace cvm::reference::cbor {

class Item {
public:
    explicit Item(cbor_item_t* item);  // takes the reference; throws on null
    Item(const Item& other);
    Item& operator=(Item other) noexcept;
    ~Item();
    cbor_item_t* get() const noexcept { return item_; }

private:
    cbor_item_t* item_;
};

Item uint(std::uint64_t value);
Item text(std::string_view value);
Item bytes(ByteSpan value);
Item tag(std::uint64_t number, const Item& content);
Item array(std::initializer_list<Item> items);
Item array(const std::vector<Item>& items);
Item map(std::initializer_list<std::pair<Item, Item>> entries);
Item map(const std::vector<std::pair<Item, Item>>& entries);

std::vector<std::uint8_t> serialize(const Item& item);

} // namespace cvm::reference::cbor
