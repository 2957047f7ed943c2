// Small well-formed images built in memory, for tests that need a valid
// header but not a real kernel.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace cvmtest {

template <typename T> void put(std::vector<std::uint8_t>& b, std::size_t at, T v) { std::memcpy(b.data() + at, &v, sizeof v); }
template <typename T> T get(const std::uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// A bzImage with 4 setup sectors and a `payload`-byte protected-mode part.
inline std::vector<std::uint8_t> synthetic_bzimage(std::size_t payload = 4096) {
    std::vector<std::uint8_t> b(5 * 512 + payload, 0);
    b[0x1f1] = 4;
    put<std::uint16_t>(b, 0x1fe, 0xaa55);
    b[0x200] = 0xeb;
    b[0x201] = 0x6a;  // header ends at 0x26c
    std::memcpy(b.data() + 0x202, "HdrS", 4);
    put<std::uint16_t>(b, 0x206, 0x020f);
    b[0x211] = 0x01;
    put<std::uint32_t>(b, 0x22c, 0x7fffffff);
    put<std::uint32_t>(b, 0x230, 0x200000);
    b[0x234] = 1;
    put<std::uint16_t>(b, 0x236, 0x3);
    put<std::uint32_t>(b, 0x238, 2047);
    put<std::uint64_t>(b, 0x258, 0x1000000);
    put<std::uint32_t>(b, 0x260, 0x10000);
    for (std::size_t i = 5 * 512; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 7);
    return b;
}

// An arm64 Image (the header of Documentation/arch/arm64/booting.rst):
// text_offset 0, `image_size`, flags 0xa (little-endian, 4 KiB pages,
// anywhere in RAM), magic "ARM\x64", then `size` - 64 bytes of pattern.
inline std::vector<std::uint8_t> synthetic_arm64_image(std::size_t size = 4096, std::uint64_t image_size = 0x200000) {
    std::vector<std::uint8_t> b(size, 0);
    put<std::uint64_t>(b, 16, image_size);
    put<std::uint64_t>(b, 24, 0xa);
    std::memcpy(b.data() + 56, "ARM\x64", 4);
    for (std::size_t i = 64; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 13 + 5);
    return b;
}

} // namespace cvmtest
