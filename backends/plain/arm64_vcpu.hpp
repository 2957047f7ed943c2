// arm64 machine set-up on ordinary KVM (arch/arm64/include/uapi/asm/kvm.h,
// from the arm64 linux-libc-dev headers): the VM's IPA size, vCPU init with
// KVM's PSCI, boot registers through KVM_SET_ONE_REG. (The in-kernel GICv3
// is libcvm/arm64/vgic.hpp, shared with the arm-cca launcher.)
// Built only for arm64 hosts.
#pragma once

#include <cstdint>
#include <vector>

#include "cvm/plan.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::arm64 {

// KVM_CREATE_VM's machine type for an IPA space of `ipa_bits`, after
// checking the host's limit (KVM_CAP_ARM_VM_IPA_SIZE; 40 bits without it).
unsigned long vm_type_for_ipa(const KvmSystem& kvm, unsigned ipa_bits);

// KVM_ARM_PREFERRED_TARGET, then per vCPU KVM_CREATE_VCPU and
// KVM_ARM_VCPU_INIT with PSCI 0.2; every vCPU but 0 starts powered off,
// waiting for the guest's PSCI CPU_ON, which KVM serves itself.
std::vector<Vcpu> create_vcpus(const Vm& vm, unsigned count);

// Writes the plan's registers (pc, x0-x30, sp, pstate) with KVM_SET_ONE_REG.
void apply_registers(const Vcpu& vcpu, const op::SetRegisters& state);

} // namespace cvm::arm64
