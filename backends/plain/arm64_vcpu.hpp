// arm64 machine set-up on ordinary KVM (arch/arm64/include/uapi/asm/kvm.h,
// from the arm64 linux-libc-dev headers): the VM's IPA size, vCPU init with
// KVM's PSCI, boot registers through KVM_SET_ONE_REG, the in-kernel GICv3.
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

// KVM_CREATE_DEVICE(vGICv3) with the distributor and redistributor
// addresses of the device tree, then KVM_DEV_ARM_VGIC_CTRL_INIT, which
// needs every vCPU created. The arch timer's PPIs come with it. Returns
// the device, whose fd must outlive the run.
KvmFd create_gic(const Vm& vm, std::uint64_t dist_base, std::uint64_t redist_base);

// The KVM_IRQ_LINE number of a GIC SPI (0-based, INTID 32 + spi).
std::uint32_t spi_irq_line(std::uint32_t spi);

} // namespace cvm::arm64
