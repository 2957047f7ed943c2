// libcvm's riscv64 machine: kvmtool's RV64 guest physical layout
// (riscv/include/kvm/kvm-arch.h, riscv/kvm.c, riscv/aia.c and
// riscv/include/kvm/fdt-arch.h, rivosinc/kvmtool branch
// cove-integration-03072023 at 02924a3). A riscv-cove TVM uses it so that a
// plan made here measures like a kvmtool CoVE launch of the same files; the
// plain backend boots the same layout on ordinary RISC-V KVM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cvm/image.hpp"
#include "cvm/spec.hpp"

namespace cvm::riscv64 {

inline constexpr std::uint64_t kRamBase = 0x80000000;              // RISCV_RAM
inline constexpr std::uint64_t kMaxRam = (1ULL << 40) - kRamBase;  // RISCV_HIMAP_MAX_MEMORY
// Linux wants the initrd and the DTB in its lowmem: both go below
// RAM + min(RAM size, 256 MiB).
inline constexpr std::uint64_t kLowmemWindow = 256ULL << 20;
// An RV64 Linux kernel is booted at a 2 MiB boundary: RAM + 2 MiB.
inline constexpr std::uint64_t kKernelOffset = 2ULL << 20;
// The FDT goes at ALIGN(kernel file end + 4 MiB, 4 MiB) ...
inline constexpr std::uint64_t kFdtAlign = 4ULL << 20;
// ... and the whole FDT_MAX_SIZE buffer is loaded (and, in a TVM, measured):
// 16 pages.
inline constexpr std::uint64_t kFdtSize = 0x10000;
// The CoVE branches align the initrd to a page (INITRD_ALIGN 8 -> 4K) so
// that it can be measured in place.
inline constexpr std::uint64_t kInitrdAlign = 4096;

inline constexpr std::uint64_t kPageSize = 4096;

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

// The 16550 at RISCV_MMIO: 8 byte-wide registers, the 1.8432 MHz clock of
// kvmtool's 8250.
inline constexpr std::uint64_t kUartBase = 0x10000000;
inline constexpr std::uint64_t kUartSize = 8;
inline constexpr std::uint32_t kUartClock = 1843200;

struct InitrdRange {
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // exclusive, as linux,initrd-end is
};

// Where kvmtool's kvm__arch_load_kernel_image puts the kernel, FDT and
// initrd of a guest with `ram_size` bytes at kRamBase.
struct BootLayout {
    std::uint64_t ram_size = 0;
    std::uint64_t kernel = 0;
    std::uint64_t fdt = 0;
    std::optional<InitrdRange> initrd;
};

// Places the spec's kernel (checked `image`) and initrd as kvmtool does,
// with the overlaps kvmtool does not check made errors: a layout that would
// let the kernel's .bss, the FDT and the initrd overwrite each other is
// refused, not launched or measured. Errors name `kernel_name` or the file.
BootLayout place_boot_images(const VmSpec& spec, const RiscvImage& image, std::uint64_t kernel_size,
                             const std::string& kernel_name);

// True if `kernel` starts with a RISC-V Image header (the "RSC\x05" magic at
// 0x38, which also follows the EFI stub's MZ header of Debian's kernels).
bool is_riscv_image(ByteSpan kernel);

} // namespace cvm::riscv64
