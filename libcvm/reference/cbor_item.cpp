#include "libcvm/reference/cbor_item.hpp"

#include <cstdlib>
#include <limits>

#include <cbor.h>

#include "cvm/error.hpp"

namespace cvm::reference::cbor {

Item::Item(cbor_item_t* item) : item_(item) {
    if (!item_) throw Error("libcbor could not allocate a CBOR item");
}
Item::Item(const Item& other) : item_(cbor_incref(other.item_)) {}
Item& Item::operator=(Item other) noexcept {
    std::swap(item_, other.item_);
    return *this;
}
Item::~Item() {
    if (item_) cbor_decref(&item_);
}

Item uint(std::uint64_t value) {
    if (value <= std::numeric_limits<std::uint8_t>::max()) return Item(cbor_build_uint8(static_cast<std::uint8_t>(value)));
    if (value <= std::numeric_limits<std::uint16_t>::max())
        return Item(cbor_build_uint16(static_cast<std::uint16_t>(value)));
    if (value <= std::numeric_limits<std::uint32_t>::max())
        return Item(cbor_build_uint32(static_cast<std::uint32_t>(value)));
    return Item(cbor_build_uint64(value));
}

Item text(std::string_view value) {
    return Item(cbor_build_stringn(value.data(), value.size()));
}

Item bytes(ByteSpan value) {
    // libcbor copies the bytes; an empty span may have a null data pointer.
    static const std::uint8_t none = 0;
    return Item(cbor_build_bytestring(value.empty() ? &none : value.data(), value.size()));
}

Item tag(std::uint64_t number, const Item& content) {
    return Item(cbor_build_tag(number, content.get()));  // the tag takes its own reference
}

Item array(const std::vector<Item>& items) {
    Item out(cbor_new_definite_array(items.size()));
    for (const auto& item : items)
        if (!cbor_array_push(out.get(), item.get())) throw Error("libcbor could not grow a CBOR array");
    return out;
}
Item array(std::initializer_list<Item> items) { return array(std::vector<Item>(items)); }

Item map(const std::vector<std::pair<Item, Item>>& entries) {
    Item out(cbor_new_definite_map(entries.size()));
    for (const auto& [key, value] : entries)
        if (!cbor_map_add(out.get(), cbor_pair{key.get(), value.get()}))
            throw Error("libcbor could not grow a CBOR map");
    return out;
}
Item map(std::initializer_list<std::pair<Item, Item>> entries) {
    return map(std::vector<std::pair<Item, Item>>(entries));
}

std::vector<std::uint8_t> serialize(const Item& item) {
    unsigned char* buffer = nullptr;
    std::size_t capacity = 0;
    std::size_t length = cbor_serialize_alloc(item.get(), &buffer, &capacity);
    if (length == 0 || !buffer) {
        std::free(buffer);
        throw Error("libcbor could not serialize the CBOR document");
    }
    std::vector<std::uint8_t> out(buffer, buffer + length);
    std::free(buffer);
    return out;
}

} // namespace cvm::reference::cbor
