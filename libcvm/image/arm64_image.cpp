// arm64 Image header (Linux Documentation/arch/arm64/booting.rst).
#include "cvm/error.hpp"
#include "cvm/image.hpp"

#include <algorithm>

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
    // image_size is the effective size including .bss (0: a pre-3.17 kernel
    // that does not say); less than the file means a corrupt header, and a
    // loader trusting it would overlap the next blob with the kernel.
    if (image.image_size != 0 && image.image_size < file.size())
        throw_format_error(name, 16, "arm64 Image image_size",
                           fmt::format("0 or at least the file size {:#x}", file.size()),
                           fmt::format("{:#x}", image.image_size));
    std::uint64_t extent = std::max<std::uint64_t>(image.image_size, file.size());
    if (image.text_offset > ~std::uint64_t{0} - extent)
        throw_format_error(name, 8, "arm64 Image text_offset", "an offset the image fits after without wrapping",
                           fmt::format("{:#x}", image.text_offset));
    return image;
}

} // namespace cvm
