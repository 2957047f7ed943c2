// The Linux x86 64-bit boot protocol: zero page (boot_params) with the e820
// map, the identity page tables and the GDT a kernel expects at its 64-bit
// entry point.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvm/image.hpp"

namespace cvm::x86 {

struct E820Entry {
    std::uint64_t address;
    std::uint64_t size;
    std::uint32_t type;  // 1 RAM, 2 reserved
};

struct RamLayout {
    std::uint64_t low_size = 0;   // RAM at [0, low_size)
    std::uint64_t high_size = 0;  // RAM at [4 GiB, 4 GiB + high_size)
};
RamLayout split_ram(std::uint64_t memory_size);
std::vector<E820Entry> e820_map(const RamLayout& ram);

struct BootParamsInput {
    const BzImage* kernel;
    std::uint64_t cmdline_address;
    std::uint64_t initrd_address = 0;
    std::uint64_t initrd_size = 0;
    std::uint64_t acpi_rsdp_address = 0;
    std::vector<E820Entry> e820;
};
// The 4 KiB zero page.
std::vector<std::uint8_t> build_boot_params(const BootParamsInput& input);

// PML4, PDPT and four page directories mapping the first 4 GiB 1:1 with
// 2 MiB pages, to be loaded at `base`.
std::vector<std::uint8_t> build_identity_page_tables(std::uint64_t base);

// Null, null, 64-bit code (selector 0x10), data (0x18).
std::vector<std::uint8_t> build_boot_gdt();

} // namespace cvm::x86
