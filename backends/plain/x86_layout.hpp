// Where the plain x86 launch puts things in guest-physical memory.
//
// The low megabyte follows the PC conventions Linux expects: boot data in
// conventional memory, firmware tables in the reserved BIOS area (where a
// guest scanning for the ACPI RSDP looks), the kernel at 1 MiB.
#pragma once

#include <cstdint>

namespace cvm::x86 {

constexpr std::uint64_t kGdtAddress = 0x500;
constexpr std::uint64_t kBootParamsAddress = 0x7000;
constexpr std::uint64_t kPageTablesAddress = 0x9000;   // PML4, PDPT, 4 PDs
constexpr std::uint64_t kPageTablesSize = 6 * 4096;
constexpr std::uint64_t kCmdlineAddress = 0x20000;
constexpr std::uint64_t kCmdlineMax = 0x10000;
constexpr std::uint64_t kEbdaStart = 0x9fc00;           // conventional memory ends here
constexpr std::uint64_t kAcpiAddress = 0xe0000;         // RSDP first, in the BIOS search range
constexpr std::uint64_t kAcpiMax = 0x20000;
constexpr std::uint64_t kKernelAddress = 0x100000;
constexpr std::uint64_t kEntry64Offset = 0x200;

// RAM below the PCI/APIC hole, and where the rest of it goes.
constexpr std::uint64_t kLowRamLimit = 0xc0000000;
constexpr std::uint64_t kHighRamBase = 0x100000000;

// Boot protocol segment selectors (__BOOT_CS, __BOOT_DS).
constexpr std::uint16_t kBootCs = 0x10;
constexpr std::uint16_t kBootDs = 0x18;

// The devices are libcvm's PC machine's (libcvm/x86/pc_machine.hpp).

} // namespace cvm::x86
