#include "backends/plain/x86_vcpu.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"
#include "libcvm/x86/cpuid.hpp"

namespace cvm::x86 {
namespace {

kvm_segment segment_from_descriptor(std::uint64_t descriptor, std::uint16_t selector) {
    kvm_segment s{};
    s.selector = selector;
    s.base = ((descriptor >> 16) & 0xffffff) | ((descriptor >> 32) & 0xff000000);
    std::uint32_t limit = static_cast<std::uint32_t>((descriptor & 0xffff) | ((descriptor >> 32) & 0xf0000));
    s.g = (descriptor >> 55) & 1;
    s.limit = s.g ? (limit << 12) | 0xfff : limit;
    s.type = (descriptor >> 40) & 0xf;
    s.s = (descriptor >> 44) & 1;
    s.dpl = (descriptor >> 45) & 3;
    s.present = (descriptor >> 47) & 1;
    s.avl = (descriptor >> 52) & 1;
    s.l = (descriptor >> 53) & 1;
    s.db = (descriptor >> 54) & 1;
    return s;
}

} // namespace

void configure_vcpu(const Vcpu& vcpu, std::vector<kvm_cpuid_entry2> cpuid) {
    set_cpuid(vcpu, std::move(cpuid));

    auto lapic = std::make_unique<kvm_lapic_state>();
    vcpu.ioctl(KVM_GET_LAPIC, lapic.get(), "KVM_GET_LAPIC");
    auto set_delivery_mode = [&](std::size_t reg, std::uint32_t mode) {
        std::span<std::uint8_t> regs(reinterpret_cast<std::uint8_t*>(lapic->regs), sizeof lapic->regs);
        auto value = le::read<std::uint32_t>(regs, reg);
        le::write<std::uint32_t>(regs, reg, (value & ~0x700u) | (mode << 8));
    };
    constexpr std::size_t kLvtLint0 = 0x350, kLvtLint1 = 0x360;
    constexpr std::uint32_t kExtInt = 7, kNmi = 4;
    set_delivery_mode(kLvtLint0, kExtInt);
    set_delivery_mode(kLvtLint1, kNmi);
    vcpu.ioctl(KVM_SET_LAPIC, lapic.get(), "KVM_SET_LAPIC");
}

void apply_registers(const Vcpu& vcpu, const op::SetRegisters& state, const GuestMemory& memory) {
    kvm_sregs sregs{};
    vcpu.ioctl(KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    kvm_regs regs{};
    regs.rflags = 0x2;  // bit 1 is reserved-one

    std::uint64_t gdt_base = 0, gdt_limit = 0;
    for (const auto& r : state.registers) {
        if (r.name == "gdt.base") gdt_base = r.value;
        if (r.name == "gdt.limit") gdt_limit = r.value;
    }
    auto segment = [&](std::uint64_t selector) {
        if ((selector & ~7ull) + 7 > gdt_limit || selector > 0xffff)
            throw Error(fmt::format("segment selector {:#x} is outside the GDT (limit {:#x})", selector, gdt_limit));
        auto bytes = memory.at(gdt_base + (selector & ~7ull), 8);
        return segment_from_descriptor(le::read<std::uint64_t>(bytes, 0), static_cast<std::uint16_t>(selector));
    };

    for (const auto& r : state.registers) {
        const std::string& n = r.name;
        if (n == "rip") regs.rip = r.value;
        else if (n == "rsi") regs.rsi = r.value;
        else if (n == "rdi") regs.rdi = r.value;
        else if (n == "rsp") regs.rsp = r.value;
        else if (n == "rbp") regs.rbp = r.value;
        else if (n == "rax") regs.rax = r.value;
        else if (n == "rbx") regs.rbx = r.value;
        else if (n == "rcx") regs.rcx = r.value;
        else if (n == "rdx") regs.rdx = r.value;
        else if (n == "rflags") regs.rflags = r.value;
        else if (n == "cr0") sregs.cr0 = r.value;
        else if (n == "cr3") sregs.cr3 = r.value;
        else if (n == "cr4") sregs.cr4 = r.value;
        else if (n == "efer") sregs.efer = r.value;
        else if (n == "gdt.base") sregs.gdt.base = r.value;
        else if (n == "gdt.limit") sregs.gdt.limit = static_cast<std::uint16_t>(r.value);
        else if (n == "cs") sregs.cs = segment(r.value);
        else if (n == "ds") sregs.ds = segment(r.value);
        else if (n == "es") sregs.es = segment(r.value);
        else if (n == "fs") sregs.fs = segment(r.value);
        else if (n == "gs") sregs.gs = segment(r.value);
        else if (n == "ss") sregs.ss = segment(r.value);
        else throw Error(fmt::format("unknown x86 register '{}' in the plan", n));
    }
    // A busy 64-bit TSS: VMX refuses to enter a guest without a usable TR,
    // and the kernel loads its own before it needs one.
    sregs.tr = kvm_segment{};
    sregs.tr.limit = 0x67;
    sregs.tr.type = 0xb;
    sregs.tr.present = 1;
    vcpu.ioctl(KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    vcpu.ioctl(KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

} // namespace cvm::x86
