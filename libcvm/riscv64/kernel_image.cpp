#include "libcvm/riscv64/kernel_image.hpp"

#include <fmt/format.h>

#include "libcvm/riscv64/machine.hpp"
#include "cvm/error.hpp"

namespace cvm::riscv64 {
namespace {

// Field offsets (Documentation/arch/riscv/boot-image-header.rst).
constexpr std::uint64_t kTextOffsetField = 8;
constexpr std::uint64_t kFlagsField = 24;
constexpr std::uint64_t kVersionField = 32;
constexpr std::uint64_t kFlagBigEndian = 1;
// Version 0.2 introduced the "RSC\x05" magic and the fields read here.
constexpr std::uint32_t kMinVersion = 0x00000002;

} // namespace

RiscvImage check_riscv_kernel(ByteSpan file, const std::string& name) {
    RiscvImage image = parse_riscv_image(file, name);
    if (image.flags & kFlagBigEndian)
        throw_format_error(name, kFlagsField, "RISC-V Image flags bit 0 (endianness)", "0, a little-endian kernel",
                           fmt::format("{:#x}", image.flags));
    if (image.version < kMinVersion)
        throw_format_error(name, kVersionField, "RISC-V Image header version", "0.2 or later",
                           fmt::format("{}.{}", image.version >> 16, image.version & 0xffff));
    // RV64 Linux links its text 2 MiB into RAM and the layout loads it there;
    // a kernel that asks for another offset would run from the wrong place.
    if (image.text_offset != kKernelOffset)
        throw_format_error(name, kTextOffsetField, "RISC-V Image text_offset",
                           fmt::format("{:#x} (an RV64 kernel booted 2 MiB into RAM)", kKernelOffset),
                           fmt::format("{:#x}", image.text_offset));
    return image;
}

} // namespace cvm::riscv64
