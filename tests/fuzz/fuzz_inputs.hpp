// Well-formed inputs the fuzz targets build around the fuzzed bytes, so that
// a target reaches the code behind the first header check. Each is the
// smallest image its parser and planner accept; none is read from outside
// the project, so the targets run from a clone alone.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cove_images.hpp"
#include "synthetic_images.hpp"

namespace cvmfuzz {

using Bytes = std::vector<std::uint8_t>;

// The tests' own well-formed kernels (tests/support, tests/riscv-cove).
inline Bytes bzimage() { return cvmtest::synthetic_bzimage(); }
inline Bytes riscv_image() { return covetest::riscv_image(4096); }

// arm64 Image header (Documentation/arch/arm64/booting.rst): text_offset 0,
// image_size 2 MiB, little-endian, 4 KiB pages.
inline Bytes arm64_image() {
    Bytes b(4096, 0);
    covetest::put64(b, 16, 0x200000);                       // image_size
    covetest::put64(b, 24, 0x2);                            // flags
    std::memcpy(b.data() + 56, "ARM\x64", 4);     // magic
    return b;
}

// Splits `bytes` at the first NUL: the text before it, the bytes after.
struct TextAndRest {
    std::string text;
    const std::uint8_t* rest;
    std::size_t rest_size;
};
inline TextAndRest split_at_nul(const std::uint8_t* data, std::size_t size) {
    const void* nul = std::memchr(data, 0, size);
    std::size_t n = nul ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - data) : size;
    std::size_t skip = nul ? n + 1 : n;
    return {std::string(reinterpret_cast<const char*>(data), n), data + skip, size - skip};
}

} // namespace cvmfuzz
