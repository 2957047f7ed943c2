// vCPU set-up for SEV guests: the register state of the plan applied
// through KVM (KVM copies it into the VMSA at LAUNCH_UPDATE_VMSA or
// SNP_LAUNCH_FINISH), and the CPUID values the vCPUs and the SNP CPUID
// page get from KVM_GET_SUPPORTED_CPUID.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <linux/kvm.h>

#include "cvm/plan.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::sev {

std::vector<kvm_cpuid_entry2> supported_cpuid(const KvmSystem& kvm);
void set_cpuid(const Vcpu& vcpu, const std::vector<kvm_cpuid_entry2>& cpuid);

// Applies every register of `state` (the names vmsa.hpp lists) with
// KVM_SET_SREGS, KVM_SET_REGS, KVM_SET_FPU, KVM_SET_XCRS, KVM_SET_MSRS (PAT)
// and KVM_SET_DEBUGREGS. Throws on a name it does not know.
void apply_registers(const Vcpu& vcpu, const op::SetRegisters& state);

// The SNP CPUID page (SnpCpuidInfo, as QEMU builds it): at most 64 leaves,
// with leaf 0xD subleaves 0 and 1 normalised to XCR0 = 1 (x87 only).
void fill_snp_cpuid_page(std::span<std::uint8_t> page, const std::vector<kvm_cpuid_entry2>& cpuid);

} // namespace cvm::sev
