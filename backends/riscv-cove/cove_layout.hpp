// Guest physical layout of a TVM, the same as kvmtool's for RV64
// (riscv/include/kvm/kvm-arch.h, riscv/kvm.c, riscv/aia.c and
// riscv/include/kvm/fdt-arch.h, rivosinc/kvmtool branch
// cove-integration-03072023 at 02924a3), so a plan made here measures like a
// kvmtool CoVE launch of the same files.
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

// Salus's VM_CPUS_MAX (= MAX_CPUS, 128): TvmCpuCreate refuses vCPU id 128
// and above with BadVmCpuId, so a bigger TVM never reaches finalize.
inline constexpr unsigned kSalusMaxVcpus = 128;

// The AIA IMSIC window (RISCV_IRQCHIP), one 4 KiB guest interrupt file per
// hart (KVM_DEV_RISCV_IMSIC_SIZE).
inline constexpr std::uint32_t kImsicBase = 0x08000000;
inline constexpr std::uint32_t kImsicPerHart = 0x1000;

// The PCI host bridge kvmtool always describes: ECAM at RISCV_PCI, then the
// 32-bit MMIO window; the I/O window at RISCV_IOPORT.
inline constexpr std::uint64_t kPciCfgBase = 0x30000000;
inline constexpr std::uint64_t kPciCfgSize = 256ULL << 20;
inline constexpr std::uint64_t kPciMmioBase = kPciCfgBase + kPciCfgSize;
inline constexpr std::uint64_t kPciMmioSize = 1ULL << 30;
inline constexpr std::uint64_t kIoportBase = 0;
inline constexpr std::uint64_t kIoportSize = 64ULL << 10;

// kvmtool's fixed phandles (enum phandles); the harts' interrupt
// controllers are numbered from PHANDLES_MAX on.
inline constexpr std::uint32_t kPhandleAplic = 2;
inline constexpr std::uint32_t kPhandleImsic = 3;
inline constexpr std::uint32_t kPhandleCpuIntcBase = 4;

// The 16550 at RISCV_MMIO. A CoVE TVM's DTB describes no UART (kvmtool
// emits no MMIO device for it; the console is SBI), but the launcher still
// answers a guest that probes the address.
inline constexpr std::uint64_t kUartBase = 0x10000000;

} // namespace cvm::cove
