// Parsers for kernel image headers. Each validates only what libcvm relies
// on, and reports every violation with the file, the byte offset, what was
// expected and what was found.
#pragma once

#include <cstdint>
#include <string>

#include "cvm/bytes.hpp"

namespace cvm {

// The x86 bzImage "setup header" (Linux Documentation/arch/x86/boot.rst).
struct BzImage {
    std::uint16_t protocol_version = 0;  // e.g. 0x020f
    std::uint32_t setup_size = 0;        // boot sector + setup sectors, bytes
    ByteSpan setup_header;               // file bytes 0x1f1 .. end of header
    ByteSpan kernel;                     // the protected-mode part, loaded at 1 MiB
    std::uint8_t loadflags = 0;
    std::uint32_t initrd_addr_max = 0;
    std::uint32_t kernel_alignment = 0;
    bool relocatable = false;
    std::uint16_t xloadflags = 0;
    std::uint32_t cmdline_size = 0;      // longest command line, without the NUL
    std::uint64_t pref_address = 0;
    std::uint32_t init_size = 0;         // memory the kernel needs from its load address
};

// Requires a 64-bit entry point (boot protocol >= 2.12 with XLF_KERNEL_64).
BzImage parse_bzimage(ByteSpan file, const std::string& name);
// The bytes of the boot sector and setup sectors, (setup_sects + 1) * 512
// with 0 read as 4, where boot loaders (and QEMU's fw_cfg) split a bzImage;
// 0 for a file without the "HdrS" header or too short to split.
std::size_t bzimage_setup_size(ByteSpan file);

// The arm64 Image header (Linux Documentation/arch/arm64/booting.rst).
struct Arm64Image {
    std::uint64_t text_offset = 0;
    std::uint64_t image_size = 0;   // effective size, including .bss
    std::uint64_t flags = 0;
    bool big_endian() const { return flags & 1; }
    // Page size field, bits 1-2: 0 unspecified, 1 4K, 2 16K, 3 64K.
    unsigned page_size_code() const { return (flags >> 1) & 3; }
};
Arm64Image parse_arm64_image(ByteSpan file, const std::string& name);

// The RISC-V Image header (Linux Documentation/arch/riscv/boot-image-header.rst).
struct RiscvImage {
    std::uint64_t text_offset = 0;
    std::uint64_t image_size = 0;
    std::uint64_t flags = 0;
    std::uint32_t version = 0;   // major << 16 | minor
};
RiscvImage parse_riscv_image(ByteSpan file, const std::string& name);

} // namespace cvm
