// A flattened device tree written in one pass, node by node.
//
// The byte layout is fixed so that a verifier can reproduce it: header (v17,
// last compatible v16), an empty reservation map right after the header, the
// structure block, then the strings block, with no padding at the end.
// Property names enter the strings block in order of first use and are shared
// only when equal. That is what the vm-fdt writer used by the reference
// predictor (cca-realm-measurements) produces; libfdt's own sequential
// writer stores the names in reverse order and shares suffixes ("method" in
// "enable-method"), so it cannot reproduce those DTBs. libfdt validates
// every tree this writer produces (fdt_check_full), here and in the tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cvm::arm64 {

class FdtWriter {
public:
    void begin_node(std::string_view name);
    void end_node();

    void property(std::string_view name, const void* data, std::size_t size);
    void property_empty(std::string_view name) { property(name, nullptr, 0); }
    void property_u32(std::string_view name, std::uint32_t value);
    void property_u64(std::string_view name, std::uint64_t value);
    void property_u32s(std::string_view name, std::initializer_list<std::uint32_t> values);
    void property_u32s(std::string_view name, const std::vector<std::uint32_t>& values);
    void property_u64s(std::string_view name, std::initializer_list<std::uint64_t> values);
    void property_u64s(std::string_view name, const std::vector<std::uint64_t>& values);
    void property_string(std::string_view name, std::string_view value);
    void property_strings(std::string_view name, std::initializer_list<std::string_view> values);

    // Closes the tree and returns the blob. Throws if nodes are still open
    // or if libfdt does not accept the result.
    std::vector<std::uint8_t> finish();

private:
    void put32(std::uint32_t value);
    void put_padded(const void* data, std::size_t size);
    std::uint32_t string_offset(std::string_view name);

    std::vector<std::uint8_t> structure_;
    std::string strings_;
    std::map<std::string, std::uint32_t, std::less<>> string_offsets_;
    int depth_ = 0;
};

// "name@<hex address>", the unit-address convention.
std::string node_name(std::string_view name, std::uint64_t address);

} // namespace cvm::arm64
