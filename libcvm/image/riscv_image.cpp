// RISC-V Image header (Linux Documentation/arch/riscv/boot-image-header.rst).
#include "cvm/error.hpp"
#include "cvm/image.hpp"

#include <cstring>

#include <fmt/format.h>

#include "libcvm/core/le.hpp"

namespace cvm {

RiscvImage parse_riscv_image(ByteSpan file, const std::string& name) {
    constexpr std::size_t kHeaderSize = 64;
    constexpr std::size_t kMagicOffset = 48;   // "RISCV\0\0\0", deprecated since 0.2
    constexpr std::size_t kMagic2Offset = 56;  // "RSC\x05"
    constexpr std::uint32_t kMagic2 = 0x05435352;
    if (file.size() < kHeaderSize)
        throw_format_error(name, 0, "file size", "at least 64 bytes for a RISC-V Image header",
                           fmt::format("{} bytes", file.size()));
    auto magic2 = le::read<std::uint32_t>(file, kMagic2Offset);
    bool old_magic = std::memcmp(file.data() + kMagicOffset, "RISCV\0\0\0", 8) == 0;
    if (magic2 != kMagic2 && !old_magic)
        throw_format_error(name, kMagic2Offset, "RISC-V Image magic", "\"RSC\\x05\" (0x05435352)",
                           fmt::format("{:#010x}", magic2));
    RiscvImage image;
    image.text_offset = le::read<std::uint64_t>(file, 8);
    image.image_size = le::read<std::uint64_t>(file, 16);
    image.flags = le::read<std::uint64_t>(file, 24);
    image.version = le::read<std::uint32_t>(file, 32);
    if (image.image_size == 0)
        throw_format_error(name, 16, "RISC-V Image image_size", "a non-zero effective size", "0");
    return image;
}

} // namespace cvm
