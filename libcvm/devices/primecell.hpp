// The identification registers every Arm PrimeCell has in the last 32 bytes
// of its 4 KiB frame (0xfe0-0xffc): four peripheral ID bytes, then the
// component ID 0xb105f00d. Linux's AMBA bus reads them to match a driver
// unless the device tree gives arm,primecell-periphid.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace cvm {

// The byte an ID register at `offset` reads as, or nothing for an offset
// outside the ID block.
inline std::optional<std::uint8_t> primecell_id(std::uint32_t periph_id, std::uint64_t offset) {
    if (offset < 0xfe0 || offset > 0xffc || offset % 4) return std::nullopt;
    const unsigned index = (offset - 0xfe0) / 4;
    constexpr std::array<std::uint8_t, 4> kCell{0x0d, 0xf0, 0x05, 0xb1};
    if (index >= 4) return kCell[index - 4];
    return static_cast<std::uint8_t>(periph_id >> (8 * index));
}

} // namespace cvm
