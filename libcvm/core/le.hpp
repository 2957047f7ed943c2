// Little-endian reads and writes on byte spans, bounds-checked by the caller.
#pragma once

#include <cstdint>
#include <cstring>
#include <bit>
#include <span>

namespace cvm::le {

template <typename T>
inline T read(std::span<const std::uint8_t> bytes, std::size_t offset) {
    T value{};
    std::memcpy(&value, bytes.data() + offset, sizeof(T));  // hosts are little-endian
    return value;
}

template <typename T>
inline void write(std::span<std::uint8_t> bytes, std::size_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

static_assert(std::endian::native == std::endian::little,
              "libcvm's byte layouts assume a little-endian host");

} // namespace cvm::le
