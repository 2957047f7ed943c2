// x86 vCPU set-up on KVM: CPUID, local APIC wiring and the initial register
// state named by a plan's set-registers operation.
#pragma once

#include <linux/kvm.h>
#include <vector>

#include "cvm/plan.hpp"
#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::x86 {

// The vCPU's CPUID (libcvm/x86/cpuid.hpp), then LINT0 as ExtINT and LINT1
// as NMI (the PC wiring Linux expects of the boot CPU's APIC).
void configure_vcpu(const Vcpu& vcpu, std::vector<kvm_cpuid_entry2> cpuid);

// Applies the registers of `state`; segment selectors are resolved through
// the GDT that the plan loaded into guest memory, as the CPU would.
void apply_registers(const Vcpu& vcpu, const op::SetRegisters& state, const GuestMemory& memory);

} // namespace cvm::x86
