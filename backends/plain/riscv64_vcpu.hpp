// riscv64 vCPU set-up on ordinary KVM (arch/riscv/include/uapi/asm/kvm.h,
// from the riscv64 linux-libc-dev headers): the host facts the plan's DTB
// declares, checked against KVM's view of a vCPU, and boot registers
// through KVM_SET_ONE_REG. Built only for riscv64 hosts.
#pragma once

#include <cstdint>
#include <string>

#include "cvm/plan.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::riscv64 {

// Refuses the launch unless `vcpu` offers every extension of `isa` (the
// DTB's riscv,isa; KVM's config isa register for letters, its ISA_EXT
// registers for the rest) and KVM's timer runs at `timebase_frequency`:
// a guest told otherwise would use instructions that trap or keep wrong
// time. The error names the plan option to change.
void check_host_values(const Vcpu& vcpu, const std::string& isa, std::uint64_t timebase_frequency);

// Turns on the SBI Debug Console extension, which KVM then forwards to the
// VMM (Linux 6.8; KVM_SET_ONE_REG of the SBI_EXT register DBCN). Returns
// false on a KVM without it (ENOENT): the guest then has the UART alone.
bool enable_sbi_debug_console(const Vcpu& vcpu);

// Writes the plan's registers (pc, a0-a7) with KVM_SET_ONE_REG.
void apply_registers(const Vcpu& vcpu, const op::SetRegisters& state);

} // namespace cvm::riscv64
