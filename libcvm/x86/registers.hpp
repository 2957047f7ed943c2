// The x86 register vocabulary of op::SetRegisters, one for every x86
// backend (plain's PC, the SEV family's VMSA) and every reader of the plan
// (the launchers through KVM, the SEV model through the VMSA layout):
//   rax rbx rcx rdx rsi rdi rsp rbp r8-r15 rip rflags   general registers
//   cr0 cr3 cr4 efer dr6 dr7 pat xcr0 mxcsr fcw          control and state
//   <seg>.selector .attrib .limit .base                  es cs ss ds fs gs ldtr tr
//   gdtr.base gdtr.limit idtr.base idtr.limit            descriptor tables
// A segment's attrib is in the VMCB/VMSA's 12-bit form (type, S, DPL, P,
// AVL, L, D/B, G from bit 0) and its limit is in bytes, as the hidden part
// of the segment register holds them: the plan states the whole register,
// so no reader has to look its descriptor up in guest memory.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "cvm/plan.hpp"

namespace cvm::x86 {

struct Segment {
    std::uint16_t selector = 0;
    std::uint16_t attrib = 0;
    std::uint32_t limit = 0;
    std::uint64_t base = 0;
};

// A present busy TSS (system type 11: a 32-bit TSS in legacy mode, a 64-bit
// one in long mode), the TR a vCPU needs to enter.
inline constexpr std::uint16_t kBusyTssAttrib = 0x8b;

// The segment register a load of `selector` gives when the GDT holds
// `descriptor` there (Intel SDM Vol. 3A 3.4.5, "Segment Descriptors").
Segment segment_from_descriptor(std::uint64_t descriptor, std::uint16_t selector);

// Appends <name>.selector, .attrib, .limit and .base.
void add_segment(std::vector<op::Register>& registers, std::string_view name, const Segment& segment);

} // namespace cvm::x86
