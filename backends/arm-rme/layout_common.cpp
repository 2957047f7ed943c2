#include <fmt/format.h>

#include "backends/arm-rme/layout.hpp"
#include "cvm/error.hpp"

namespace cvm::cca {

Arm64Image realm_kernel(const ImageSpec& kernel) {
    const auto& name = kernel.payload.name();
    Arm64Image image = parse_arm64_image(kernel.payload.bytes(), name);
    if (image.big_endian())
        throw_format_error(name, 24, "arm64 Image flags bit 0", "0 (little-endian kernel)", "1 (big-endian)");
    if (image.image_size == 0)
        throw_format_error(name, 16, "arm64 Image image_size", "the kernel's effective size (Linux 3.17+)", "0");
    if (image.text_offset % 4096)
        throw_format_error(name, 8, "arm64 Image text_offset", "a multiple of 4096",
                           fmt::format("{:#x}", image.text_offset));
    return image;
}

} // namespace cvm::cca
