// Device trees for a realm, one generator per layout. Each is a pure
// function of its inputs: the same spec gives the same bytes.
//
// The kvmtool and qemu trees reproduce, node for node and byte for byte, the
// DTBs that cca-realm-measurements (08aaf5a3) generates for those VMMs, which
// model kvmtool-cca and QEMU virt 9.1; the RIM covers the DTB, so a verifier
// predicting a kvmtool or QEMU realm needs exactly these bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "cvm/plan.hpp"
#include "libcvm/arm64/dtb_nodes.hpp"
#include "libcvm/plan/device_set.hpp"

namespace cvm::cca {

// The inputs every tree shares (libcvm/arm64/dtb_nodes.hpp); realms keep
// the defaults: PSCI through SMC, the "linux,dummy-virt-realm" model.
using arm64::DtbInputs;

// kvmtool-cca's devices (GICv3 + ITS, 4 16550 UARTs, the MC146818 RTC,
// the PCI ECAM host) for `vcpus` vCPUs, and its tree of them, zero padded
// to kvmtool's fixed 64 KiB DTB area.
inline constexpr std::uint64_t kKvmtoolDtbSize = 64 * 1024;
std::vector<op::AddDevice> kvmtool_devices(unsigned vcpus);
std::vector<std::uint8_t> kvmtool_dtb(const DtbInputs& in, const std::vector<op::AddDevice>& devices);

// QEMU virt's devices (GICv3 with a second, high redistributor region
// beyond 123 vCPUs, ITS, PL011, PL031, fw_cfg, 32 virtio-mmio slots, the
// PCIe ECAM host); the high regions depend on the memory map.
struct QemuHighRegions {
    std::uint64_t redist_base = 0;
    std::uint64_t pci_cfg_base = 0;
    std::uint64_t pci_mmio_base = 0;
};
std::vector<op::AddDevice> qemu_devices(unsigned vcpus, const QemuHighRegions& high);
std::vector<std::uint8_t> qemu_dtb(const DtbInputs& in, const std::vector<op::AddDevice>& devices);

// libcvm's own tree is that of libcvm's arm64 machine, shared with the plain
// backend: libcvm/arm64/libcvm_machine.hpp.

} // namespace cvm::cca
