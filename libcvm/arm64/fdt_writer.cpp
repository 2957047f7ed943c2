#include "libcvm/arm64/fdt_writer.hpp"

#include <cstring>

#include <fmt/format.h>
#include <libfdt.h>

#include "cvm/error.hpp"

namespace cvm::arm64 {
namespace {

constexpr std::uint32_t kMagic = 0xd00dfeed;
constexpr std::uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kEnd = 9;
constexpr std::uint32_t kHeaderSize = 40;
constexpr std::uint32_t kReserveMapSize = 16;  // the terminating empty entry

void store_be32(std::uint8_t* out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
}

} // namespace

std::string node_name(std::string_view name, std::uint64_t address) {
    return fmt::format("{}@{:x}", name, address);
}

void FdtWriter::put32(std::uint32_t value) {
    std::uint8_t bytes[4];
    store_be32(bytes, value);
    structure_.insert(structure_.end(), bytes, bytes + 4);
}

void FdtWriter::put_padded(const void* data, std::size_t size) {
    auto* bytes = static_cast<const std::uint8_t*>(data);
    if (size) structure_.insert(structure_.end(), bytes, bytes + size);
    while (structure_.size() % 4) structure_.push_back(0);
}

std::uint32_t FdtWriter::string_offset(std::string_view name) {
    if (auto it = string_offsets_.find(name); it != string_offsets_.end()) return it->second;
    auto offset = static_cast<std::uint32_t>(strings_.size());
    strings_.append(name);
    strings_.push_back('\0');
    string_offsets_.emplace(std::string(name), offset);
    return offset;
}

void FdtWriter::begin_node(std::string_view name) {
    if (name.find('\0') != std::string_view::npos) throw Error("device tree node name contains NUL");
    put32(kBeginNode);
    std::string with_nul(name);
    with_nul.push_back('\0');
    put_padded(with_nul.data(), with_nul.size());
    ++depth_;
}

void FdtWriter::end_node() {
    if (depth_ == 0) throw Error("device tree writer: end_node without an open node");
    put32(kEndNode);
    --depth_;
}

void FdtWriter::property(std::string_view name, const void* data, std::size_t size) {
    if (depth_ == 0) throw Error(fmt::format("device tree property '{}' outside any node", name));
    put32(kProp);
    put32(static_cast<std::uint32_t>(size));
    put32(string_offset(name));
    put_padded(data, size);
}

void FdtWriter::property_u32(std::string_view name, std::uint32_t value) { property_u32s(name, {value}); }

void FdtWriter::property_u64(std::string_view name, std::uint64_t value) { property_u64s(name, {value}); }

void FdtWriter::property_u32s(std::string_view name, std::initializer_list<std::uint32_t> values) {
    property_u32s(name, std::vector<std::uint32_t>(values));
}

void FdtWriter::property_u32s(std::string_view name, const std::vector<std::uint32_t>& values) {
    std::vector<std::uint8_t> bytes(values.size() * 4);
    for (std::size_t i = 0; i < values.size(); ++i) store_be32(bytes.data() + 4 * i, values[i]);
    property(name, bytes.data(), bytes.size());
}

void FdtWriter::property_u64s(std::string_view name, std::initializer_list<std::uint64_t> values) {
    property_u64s(name, std::vector<std::uint64_t>(values));
}

void FdtWriter::property_u64s(std::string_view name, const std::vector<std::uint64_t>& values) {
    std::vector<std::uint8_t> bytes(values.size() * 8);
    std::size_t i = 0;
    for (std::uint64_t v : values) {
        store_be32(bytes.data() + 8 * i, static_cast<std::uint32_t>(v >> 32));
        store_be32(bytes.data() + 8 * i + 4, static_cast<std::uint32_t>(v));
        ++i;
    }
    property(name, bytes.data(), bytes.size());
}

void FdtWriter::property_string(std::string_view name, std::string_view value) {
    property_strings(name, {value});
}

void FdtWriter::property_strings(std::string_view name, std::initializer_list<std::string_view> values) {
    std::string bytes;
    for (auto v : values) {
        bytes.append(v);
        bytes.push_back('\0');
    }
    property(name, bytes.data(), bytes.size());
}

std::vector<std::uint8_t> FdtWriter::finish() {
    if (depth_ != 0) throw Error(fmt::format("device tree writer: {} node(s) left open", depth_));
    put32(kEnd);
    const std::uint32_t off_struct = kHeaderSize + kReserveMapSize;
    const auto size_struct = static_cast<std::uint32_t>(structure_.size());
    const std::uint32_t off_strings = off_struct + size_struct;
    const auto size_strings = static_cast<std::uint32_t>(strings_.size());
    const std::uint32_t total = off_strings + size_strings;

    std::vector<std::uint8_t> blob(total, 0);
    const std::uint32_t header[] = {kMagic, total, off_struct, off_strings, kHeaderSize, 17, 16, 0,
                                    size_strings, size_struct};
    for (std::size_t i = 0; i < std::size(header); ++i) store_be32(blob.data() + 4 * i, header[i]);
    std::memcpy(blob.data() + off_struct, structure_.data(), size_struct);
    std::memcpy(blob.data() + off_strings, strings_.data(), size_strings);
    if (int rc = fdt_check_full(blob.data(), blob.size()); rc != 0)
        throw Error(fmt::format("generated device tree rejected by libfdt: {}", fdt_strerror(rc)));
    return blob;
}

} // namespace cvm::arm64
