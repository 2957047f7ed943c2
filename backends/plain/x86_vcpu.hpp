// x86 vCPU set-up on KVM for the plain PC: CPUID and local APIC wiring (the
// registers are the arch layer's, libcvm/x86/vcpu_registers.hpp).
#pragma once

#include <linux/kvm.h>
#include <vector>

#include "cvm/plan.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::x86 {

// The vCPU's CPUID (libcvm/x86/cpuid.hpp), then LINT0 as ExtINT and LINT1
// as NMI (the PC wiring Linux expects of the boot CPU's APIC).
void configure_vcpu(const Vcpu& vcpu, std::vector<kvm_cpuid_entry2> cpuid);

} // namespace cvm::x86
