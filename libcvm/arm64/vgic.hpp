// The in-kernel GICv3 of an arm64 VM, and its ITS, created from the plan's
// device records (Documentation/virt/kvm/devices/arm-vgic-v3.rst and
// arm-vgic-its.rst). Shared by the plain arm64 and the arm-cca launchers.
// Written with the UAPI numbers spelled out, so that it builds on every
// host: the arm-cca launcher is tested at the ioctl seam on x86.
#pragma once

#include <cstdint>
#include <optional>

#include "cvm/plan.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::arm64 {

struct Vgic {
    KvmFd gic;
    std::optional<KvmFd> its;
};

// KVM_CREATE_DEVICE(vGICv3), the distributor address, then the
// redistributors: one region by the legacy REDIST address (it must hold
// `vcpus` redistributors), several by REDIST_REGION (index, base and count
// each; the last region takes the redistributors the earlier ones do not
// hold); then CTRL_INIT, which needs every vCPU created. With an ITS record,
// KVM_CREATE_DEVICE(ITS), its address, and its CTRL_INIT after the GIC's.
// Throws, naming the record, for a layout KVM could not take.
Vgic create_vgic(const Vm& vm, const op::AddDevice& gic, const op::AddDevice* its, unsigned vcpus);

// 128 KiB per redistributor: the RD_base and SGI_base frames.
inline constexpr std::uint64_t kRedistributorSize = 0x20000;

} // namespace cvm::arm64
