// x86 bzImage setup header, as described by the Linux x86 boot protocol.
#include "cvm/error.hpp"
#include "cvm/image.hpp"

#include <fmt/format.h>

#include "libcvm/core/le.hpp"

namespace cvm {
namespace {

constexpr std::size_t kSetupSectsOffset = 0x1f1;
constexpr std::size_t kSyssizeOffset = 0x1f4;
constexpr std::size_t kBootFlagOffset = 0x1fe;
constexpr std::size_t kJumpOffset = 0x200;
constexpr std::size_t kHeaderMagicOffset = 0x202;
constexpr std::size_t kVersionOffset = 0x206;
constexpr std::size_t kLoadflagsOffset = 0x211;
constexpr std::size_t kInitrdAddrMaxOffset = 0x22c;
constexpr std::size_t kKernelAlignmentOffset = 0x230;
constexpr std::size_t kRelocatableOffset = 0x234;
constexpr std::size_t kXloadflagsOffset = 0x236;
constexpr std::size_t kCmdlineSizeOffset = 0x238;
constexpr std::size_t kPrefAddressOffset = 0x258;
constexpr std::size_t kInitSizeOffset = 0x260;
constexpr std::size_t kMinimumHeaderEnd = 0x264;  // through init_size (protocol 2.10)

constexpr std::uint32_t kHdrS = 0x53726448;  // "HdrS"
constexpr std::uint16_t kMinimumVersion = 0x020c;  // xloadflags, 64-bit entry
constexpr std::uint8_t kLoadedHigh = 0x01;
constexpr std::uint16_t kXlfKernel64 = 0x01;
constexpr std::uint32_t kEntry64Offset = 0x200;

// The boot protocol's setup part: the boot sector and setup_sects sectors,
// where 0 has its historical meaning of 4.
std::size_t setup_bytes(unsigned setup_sects) { return ((setup_sects ? setup_sects : 4) + 1) * 512u; }

} // namespace

std::size_t bzimage_setup_size(ByteSpan file) {
    if (file.size() < kHeaderMagicOffset + 4 || le::read<std::uint32_t>(file, kHeaderMagicOffset) != kHdrS) return 0;
    const std::size_t size = setup_bytes(file[kSetupSectsOffset]);
    return size < file.size() ? size : 0;
}

BzImage parse_bzimage(ByteSpan file, const std::string& name) {
    if (file.size() < kMinimumHeaderEnd)
        throw_format_error(name, 0, "file size", fmt::format("at least {:#x} bytes for a bzImage setup header", kMinimumHeaderEnd),
                           fmt::format("{:#x} bytes", file.size()));
    auto boot_flag = le::read<std::uint16_t>(file, kBootFlagOffset);
    if (boot_flag != 0xaa55)
        throw_format_error(name, kBootFlagOffset, "boot_flag", "0xaa55", fmt::format("{:#06x}", boot_flag));
    auto magic = le::read<std::uint32_t>(file, kHeaderMagicOffset);
    if (magic != kHdrS)
        throw_format_error(name, kHeaderMagicOffset, "setup header magic", "\"HdrS\" (0x53726448)",
                           fmt::format("{:#010x}", magic));

    BzImage image;
    image.protocol_version = le::read<std::uint16_t>(file, kVersionOffset);
    if (image.protocol_version < kMinimumVersion)
        throw_format_error(name, kVersionOffset, "boot protocol version",
                           fmt::format("at least {:#06x} (64-bit entry point)", kMinimumVersion),
                           fmt::format("{:#06x}", image.protocol_version));

    // The header ends at 0x202 + the byte at 0x201 (the jump's displacement).
    std::size_t header_end = kHeaderMagicOffset + file[kJumpOffset + 1];
    if (header_end < kMinimumHeaderEnd || header_end > file.size())
        throw_format_error(name, kJumpOffset + 1, "setup header length",
                           fmt::format("an end between {:#x} and the file size {:#x}", kMinimumHeaderEnd, file.size()),
                           fmt::format("end {:#x}", header_end));
    image.setup_header = file.subspan(kSetupSectsOffset, header_end - kSetupSectsOffset);

    const unsigned setup_sects = file[kSetupSectsOffset];
    image.setup_size = static_cast<std::uint32_t>(setup_bytes(setup_sects));
    if (image.setup_size + kEntry64Offset >= file.size())
        throw_format_error(name, kSetupSectsOffset, "setup_sects",
                           fmt::format("a setup part leaving room for the 64-bit entry in a {:#x}-byte file", file.size()),
                           fmt::format("{} sectors ({:#x} bytes)", setup_sects, image.setup_size));
    image.kernel = file.subspan(image.setup_size);
    // syssize (protocol 2.04+) is the protected-mode size in 16-byte units. A
    // file shorter than that was cut off: its measurement would be of a
    // kernel that cannot boot, so refuse it. (0: the header does not say.)
    std::uint64_t syssize_bytes = std::uint64_t{le::read<std::uint32_t>(file, kSyssizeOffset)} * 16;
    if (syssize_bytes > image.kernel.size())
        throw_format_error(name, kSyssizeOffset, "syssize",
                           fmt::format("a protected-mode part within the file ({:#x} bytes after setup)",
                                       image.kernel.size()),
                           fmt::format("{:#x} bytes (truncated file?)", syssize_bytes));

    image.loadflags = file[kLoadflagsOffset];
    if (!(image.loadflags & kLoadedHigh))
        throw_format_error(name, kLoadflagsOffset, "loadflags", "LOADED_HIGH set (a bzImage, not a zImage)",
                           fmt::format("{:#04x}", image.loadflags));
    image.xloadflags = le::read<std::uint16_t>(file, kXloadflagsOffset);
    if (!(image.xloadflags & kXlfKernel64))
        throw_format_error(name, kXloadflagsOffset, "xloadflags", "XLF_KERNEL_64 set (a 64-bit entry point)",
                           fmt::format("{:#06x}", image.xloadflags));

    image.initrd_addr_max = le::read<std::uint32_t>(file, kInitrdAddrMaxOffset);
    image.kernel_alignment = le::read<std::uint32_t>(file, kKernelAlignmentOffset);
    image.relocatable = file[kRelocatableOffset] != 0;
    image.cmdline_size = le::read<std::uint32_t>(file, kCmdlineSizeOffset);
    image.pref_address = le::read<std::uint64_t>(file, kPrefAddressOffset);
    image.init_size = le::read<std::uint32_t>(file, kInitSizeOffset);
    if (image.init_size < image.kernel.size())
        throw_format_error(name, kInitSizeOffset, "init_size",
                           fmt::format("at least the protected-mode size {:#x}", image.kernel.size()),
                           fmt::format("{:#x}", image.init_size));
    return image;
}

} // namespace cvm
