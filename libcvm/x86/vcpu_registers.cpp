#include "libcvm/x86/vcpu_registers.hpp"

#include <linux/kvm.h>

#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/x86/flex_array.hpp"

namespace cvm::x86 {
namespace {

constexpr std::uint32_t kMsrPat = 0x277;
// DR6 and DR7 at reset (SDM Vol. 3B 18.2.3, 18.2.4), for the one a plan
// that names the other leaves out: KVM_SET_DEBUGREGS writes both.
constexpr std::uint64_t kResetDr6 = 0xffff0ff0, kResetDr7 = 0x400;

// VMCB attribute bits -> kvm_segment fields.
void set_attrib(kvm_segment& s, std::uint64_t attrib) {
    s.type = attrib & 0xf;
    s.s = (attrib >> 4) & 1;
    s.dpl = (attrib >> 5) & 3;
    s.present = (attrib >> 7) & 1;
    s.avl = (attrib >> 8) & 1;
    s.l = (attrib >> 9) & 1;
    s.db = (attrib >> 10) & 1;
    s.g = (attrib >> 11) & 1;
    s.unusable = s.present ? 0 : 1;
}

kvm_segment* segment(kvm_sregs& sregs, std::string_view name) {
    if (name == "es") return &sregs.es;
    if (name == "cs") return &sregs.cs;
    if (name == "ss") return &sregs.ss;
    if (name == "ds") return &sregs.ds;
    if (name == "fs") return &sregs.fs;
    if (name == "gs") return &sregs.gs;
    if (name == "ldtr") return &sregs.ldt;
    if (name == "tr") return &sregs.tr;
    return nullptr;
}

__u64* gpr(kvm_regs& regs, std::string_view n) {
    struct { const char* name; __u64 kvm_regs::*field; } const table[] = {
        {"rax", &kvm_regs::rax}, {"rbx", &kvm_regs::rbx}, {"rcx", &kvm_regs::rcx}, {"rdx", &kvm_regs::rdx},
        {"rsi", &kvm_regs::rsi}, {"rdi", &kvm_regs::rdi}, {"rsp", &kvm_regs::rsp}, {"rbp", &kvm_regs::rbp},
        {"r8", &kvm_regs::r8}, {"r9", &kvm_regs::r9}, {"r10", &kvm_regs::r10}, {"r11", &kvm_regs::r11},
        {"r12", &kvm_regs::r12}, {"r13", &kvm_regs::r13}, {"r14", &kvm_regs::r14}, {"r15", &kvm_regs::r15},
        {"rip", &kvm_regs::rip}, {"rflags", &kvm_regs::rflags},
    };
    for (const auto& t : table)
        if (n == t.name) return &(regs.*t.field);
    return nullptr;
}

} // namespace

void apply_registers(const Vcpu& vcpu, const op::SetRegisters& state) {
    kvm_sregs sregs{};
    vcpu.ioctl(KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    // The FPU state is read whole and written back whole, with only the
    // named fields changed.
    std::unique_ptr<kvm_fpu> fpu;
    for (const auto& r : state.registers)
        if (r.name == "mxcsr" || r.name == "fcw") fpu = std::make_unique<kvm_fpu>();
    if (fpu) vcpu.ioctl(KVM_GET_FPU, fpu.get(), "KVM_GET_FPU");
    kvm_regs regs{};
    regs.rflags = 0x2;  // bit 1 is reserved-one
    std::optional<std::uint64_t> xcr0, pat, dr6, dr7;

    for (const auto& r : state.registers) {
        const std::string& n = r.name;
        auto dot = n.find('.');
        if (dot != std::string::npos) {
            std::string_view base(n.data(), dot), field(n.data() + dot + 1, n.size() - dot - 1);
            if (kvm_segment* s = segment(sregs, base)) {
                if (field == "selector") s->selector = static_cast<std::uint16_t>(r.value);
                else if (field == "attrib") set_attrib(*s, r.value);
                else if (field == "limit") s->limit = static_cast<std::uint32_t>(r.value);
                else if (field == "base") s->base = r.value;
                else throw Error(fmt::format("unknown segment field '{}' in the plan", n));
                continue;
            }
            kvm_dtable* table = base == "gdtr" ? &sregs.gdt : base == "idtr" ? &sregs.idt : nullptr;
            if (table && field == "base") { table->base = r.value; continue; }
            if (table && field == "limit") { table->limit = static_cast<std::uint16_t>(r.value); continue; }
            throw Error(fmt::format("unknown x86 register '{}' in the plan", n));
        }
        if (__u64* g = gpr(regs, n)) *g = r.value;
        else if (n == "cr0") sregs.cr0 = r.value;
        else if (n == "cr3") sregs.cr3 = r.value;
        else if (n == "cr4") sregs.cr4 = r.value;
        else if (n == "efer") sregs.efer = r.value;
        else if (n == "dr6") dr6 = r.value;
        else if (n == "dr7") dr7 = r.value;
        else if (n == "pat") pat = r.value;
        else if (n == "xcr0") xcr0 = r.value;
        else if (n == "mxcsr") fpu->mxcsr = static_cast<std::uint32_t>(r.value);
        else if (n == "fcw") fpu->fcw = static_cast<std::uint16_t>(r.value);
        else throw Error(fmt::format("unknown x86 register '{}' in the plan", n));
    }
    vcpu.ioctl(KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    vcpu.ioctl(KVM_SET_REGS, &regs, "KVM_SET_REGS");
    if (fpu) vcpu.ioctl(KVM_SET_FPU, fpu.get(), "KVM_SET_FPU");
    if (xcr0) {
        kvm_xcrs xcrs{};
        xcrs.nr_xcrs = 1;
        xcrs.xcrs[0].xcr = 0;
        xcrs.xcrs[0].value = *xcr0;
        vcpu.ioctl(KVM_SET_XCRS, &xcrs, "KVM_SET_XCRS");
    }
    if (pat) {
        FlexBuffer<kvm_msr_entry> msrs(1);
        msrs.entries()[0] = kvm_msr_entry{kMsrPat, 0, *pat};
        int written = vcpu.ioctl(kSetMsrs, msrs.header(), "KVM_SET_MSRS");
        if (written != 1) throw Error("KVM_SET_MSRS did not take the PAT MSR", 0, "kvm");
    }
    if (dr6 || dr7) {
        kvm_debugregs debug{};
        debug.dr6 = dr6.value_or(kResetDr6);
        debug.dr7 = dr7.value_or(kResetDr7);
        vcpu.ioctl(KVM_SET_DEBUGREGS, &debug, "KVM_SET_DEBUGREGS");
    }
}

} // namespace cvm::x86
