// CPUID for x86 vCPUs, shared by the plain and SEV launchers: what KVM
// supports, and each vCPU's copy with its own APIC IDs. x86 hosts only.
#pragma once

#include <linux/kvm.h>
#include <vector>

#include "libcvm/kvm/kvm.hpp"

namespace cvm::x86 {

// KVM_GET_SUPPORTED_CPUID, growing the buffer until KVM is satisfied.
std::vector<kvm_cpuid_entry2> supported_cpuid(const KvmSystem& kvm);

// KVM_SET_CPUID2 with this vCPU's initial APIC ID (leaf 1 EBX[31:24]) and
// x2APIC ID (leaves 0xb and 0x1f EDX) patched in.
void set_cpuid(const Vcpu& vcpu, std::vector<kvm_cpuid_entry2> cpuid);

} // namespace cvm::x86
