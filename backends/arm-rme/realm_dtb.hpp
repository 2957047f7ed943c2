// Device trees for a realm, one generator per layout. Each is a pure
// function of its inputs: the same spec gives the same bytes.
//
// The kvmtool and qemu trees reproduce, node for node and byte for byte, the
// DTBs that cca-realm-measurements (08aaf5a3) generates for those VMMs, which
// model kvmtool-cca and QEMU virt 9.1; the RIM covers the DTB, so a verifier
// predicting a kvmtool or QEMU realm needs exactly these bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cvm::cca {

struct DtbInputs {
    std::uint64_t ram_base = 0;
    std::uint64_t ram_size = 0;
    unsigned vcpus = 1;
    std::optional<std::string> bootargs;                            // absent: no property
    std::optional<std::pair<std::uint64_t, std::uint64_t>> initrd;  // start, size
    bool pmu = false;
};

// kvmtool-cca's tree (GICv3 + ITS, 4 16550 UARTs, RTC, PCI ECAM), zero
// padded to kvmtool's fixed 64 KiB DTB area.
inline constexpr std::uint64_t kKvmtoolDtbSize = 64 * 1024;
std::vector<std::uint8_t> kvmtool_dtb(const DtbInputs& in);

// QEMU virt's tree; the high PCI windows depend on the memory map.
struct QemuHighRegions {
    std::uint64_t redist_base = 0;
    std::uint64_t pci_cfg_base = 0;
    std::uint64_t pci_mmio_base = 0;
};
std::vector<std::uint8_t> qemu_dtb(const DtbInputs& in, const QemuHighRegions& high);

// libcvm's own minimal tree: memory, cpus + PSCI, GICv3, arch timer, one
// 16550 UART, /chosen.
inline constexpr std::uint64_t kLibcvmUartBase = 0x01000000;
inline constexpr std::uint64_t kLibcvmGicDistBase = 0x3fff0000;
std::vector<std::uint8_t> libcvm_dtb(const DtbInputs& in);

} // namespace cvm::cca
