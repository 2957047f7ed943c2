// arm64 Image header (Linux Documentation/arch/arm64/booting.rst).
#include "cvm/error.hpp"
#include "cvm/image.hpp"

#include <fmt/format.h>

#include "libcvm/core/le.hpp"

namespace cvm {

Arm64Image parse_arm64_image(ByteSpan file, const std::string& name) {
    constexpr std::size_t kHeaderSize = 64;
    constexpr std::size_t kMagicOffset = 56;
    constexpr std::uint32_t kMagic = 0x644d5241;  // "ARM\x64"
    if (file.size() < kHeaderSize)
        throw_format_error(name, 0, "file size", "at least 64 bytes for an arm64 Image header",
                           fmt::format("{} bytes", file.size()));
    auto magic = le::read<std::uint32_t>(file, kMagicOffset);
    if (magic != kMagic)
        throw_format_error(name, kMagicOffset, "arm64 Image magic", "\"ARM\\x64\" (0x644d5241)",
                           fmt::format("{:#010x}", magic));
    Arm64Image image;
    image.text_offset = le::read<std::uint64_t>(file, 8);
    image.image_size = le::read<std::uint64_t>(file, 16);
    image.flags = le::read<std::uint64_t>(file, 24);
    if (image.flags >> 4)
        throw_format_error(name, 24, "arm64 Image flags", "only bits 0-3 defined",
                           fmt::format("{:#x}", image.flags));
    return image;
}

} // namespace cvm
