// An x86 vCPU's initial state from the plan's registers (libcvm/x86/registers.hpp),
// through KVM. Shared by the plain and SEV launchers: on SEV, KVM copies
// this state into the VMSA at LAUNCH_UPDATE_VMSA or SNP_LAUNCH_FINISH.
#pragma once

#include "cvm/plan.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::x86 {

// Writes every register `state` names: the general and segment registers
// with KVM_SET_SREGS and KVM_SET_REGS (the rest of both as KVM reset them),
// then, only where the plan names them, mxcsr/fcw with KVM_SET_FPU, xcr0
// with KVM_SET_XCRS, pat with KVM_SET_MSRS and dr6/dr7 with
// KVM_SET_DEBUGREGS. Throws naming a register outside the vocabulary.
void apply_registers(const Vcpu& vcpu, const op::SetRegisters& state);

} // namespace cvm::x86
