// Guest physical layout of a TVM, the same as kvmtool's for RV64
// (riscv/include/kvm/kvm-arch.h and riscv/kvm.c, rivosinc/kvmtool branch
// cove-integration-03072023), so a plan made here measures like a kvmtool
// CoVE launch of the same files.
#pragma once

#include <cstdint>

namespace cvm::cove {

inline constexpr std::uint64_t kRamBase = 0x80000000;              // RISCV_RAM
inline constexpr std::uint64_t kMaxRam = (1ULL << 40) - kRamBase;  // RISCV_HIMAP_MAX_MEMORY
// Linux wants the initrd and the DTB in its lowmem: both go below
// RAM + min(RAM size, 256 MiB).
inline constexpr std::uint64_t kLowmemWindow = 256ULL << 20;
// An RV64 Linux kernel is booted at a 2 MiB boundary: RAM + 2 MiB.
inline constexpr std::uint64_t kKernelOffset = 2ULL << 20;
// The FDT goes at ALIGN(kernel file end + 4 MiB, 4 MiB) ...
inline constexpr std::uint64_t kFdtAlign = 4ULL << 20;
// ... and the whole FDT_MAX_SIZE buffer is measured: 16 pages.
inline constexpr std::uint64_t kFdtSize = 0x10000;
// The CoVE branches align the initrd to a page (INITRD_ALIGN 8 -> 4K) so
// that it can be measured in place.
inline constexpr std::uint64_t kInitrdAlign = 4096;

// The TSM measures and maps whole 4 KiB pages.
inline constexpr std::uint64_t kPageSize = 4096;

// The console: a 16550 at the start of kvmtool's MMIO window (RISCV_MMIO).
inline constexpr std::uint64_t kUartBase = 0x10000000;
inline constexpr std::uint64_t kUartSize = 0x100;
inline constexpr std::uint32_t kUartClock = 1843200;

} // namespace cvm::cove
