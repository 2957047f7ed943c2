// KVM's RISC-V AIA device as a CoVE TVM's launcher creates it: the IMSIC
// guest interrupt files only (a TVM has no wired interrupt sources, so no
// APLIC), in the order of kvmtool's riscv/aia.c (rivosinc/kvmtool, the CoVE
// branch): create the device, read its mode and id count, set the hart
// bits, each hart's IMSIC address, then initialise it. UAPI numbers of
// arch/riscv/include/uapi/asm/kvm.h (Linux 6.5+, newer than Debian 12's
// riscv64 headers) are spelled out, so this builds on every host.
#pragma once

#include <cstdint>
#include <optional>

#include "cvm/plan.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::riscv64 {

// After the vCPUs exist. `num_ids` is the id count the plan's DTB declares
// (riscv,num-ids); a host whose AIA reports another is refused, naming the
// option to plan with. Returns the device, whose fd must outlive the run.
KvmFd create_aia_imsic(const Vm& vm, const op::AddDevice& imsic, unsigned vcpus, std::optional<std::uint32_t> num_ids);

} // namespace cvm::riscv64
