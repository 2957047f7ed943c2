#include "backends/amd-sev/sev_vcpu.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"
#include "libcvm/x86/flex_array.hpp"

namespace cvm::sev {
namespace {

using x86::FlexBuffer;
using x86::kSetMsrs;

constexpr std::uint32_t kMsrPat = 0x277;

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
    kvm_regs regs{};
    auto fpu = std::make_unique<kvm_fpu>();
    vcpu.ioctl(KVM_GET_FPU, fpu.get(), "KVM_GET_FPU");
    kvm_xcrs xcrs{};
    kvm_debugregs debug{};
    std::uint64_t pat = 0x0007040600070406;

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
        else if (n == "dr6") debug.dr6 = r.value;
        else if (n == "dr7") debug.dr7 = r.value;
        else if (n == "pat") pat = r.value;
        else if (n == "xcr0") { xcrs.nr_xcrs = 1; xcrs.xcrs[0].xcr = 0; xcrs.xcrs[0].value = r.value; }
        else if (n == "mxcsr") fpu->mxcsr = static_cast<std::uint32_t>(r.value);
        else if (n == "fcw") fpu->fcw = static_cast<std::uint16_t>(r.value);
        else throw Error(fmt::format("unknown x86 register '{}' in the plan", n));
    }
    vcpu.ioctl(KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    vcpu.ioctl(KVM_SET_REGS, &regs, "KVM_SET_REGS");
    vcpu.ioctl(KVM_SET_FPU, fpu.get(), "KVM_SET_FPU");
    if (xcrs.nr_xcrs) vcpu.ioctl(KVM_SET_XCRS, &xcrs, "KVM_SET_XCRS");
    FlexBuffer<kvm_msr_entry> msrs(1);
    msrs.entries()[0] = kvm_msr_entry{kMsrPat, 0, pat};
    int written = vcpu.ioctl(kSetMsrs, msrs.header(), "KVM_SET_MSRS");
    if (written != 1) throw Error("KVM_SET_MSRS did not take the PAT MSR", 0, "kvm");
    vcpu.ioctl(KVM_SET_DEBUGREGS, &debug, "KVM_SET_DEBUGREGS");
}

void mask_cpuid_for_snp(std::vector<kvm_cpuid_entry2>& cpuid) {
    constexpr std::uint32_t kTscDeadline = 1u << 24;     // CPUID 1 ECX
    constexpr std::uint32_t kTscAdjust = 1u << 1;        // CPUID 7.0 EBX
    constexpr std::uint32_t kSpecCtrlBits = 0xfc000000;  // CPUID 7.0 EDX 26-31: SPEC_CTRL, STIBP, FLUSH_L1D,
                                                         // ARCH_CAPABILITIES, CORE_CAPABILITY, SSBD
    constexpr std::uint32_t kVirtSsbd = 1u << 25;        // CPUID 0x80000008 EBX
    for (auto& e : cpuid) {
        if (e.function == 1) e.ecx &= ~kTscDeadline;
        if (e.function == 7 && e.index == 0) {
            e.ebx &= ~kTscAdjust;
            e.edx &= ~kSpecCtrlBits;
        }
        if (e.function == 0x80000008) e.ebx &= ~kVirtSsbd;
    }
}

namespace {
constexpr std::size_t kCpuidHeader = 16, kCpuidEntry = 48;
static_assert(kCpuidHeader + kSnpCpuidMaxEntries * kCpuidEntry <= 4096);

bool xsave_base_leaf(std::uint32_t function, std::uint32_t index) {
    return function == 0xd && (index == 0 || index == 1);
}
} // namespace

std::size_t fill_snp_cpuid_page(std::span<std::uint8_t> page, const std::vector<kvm_cpuid_entry2>& cpuid) {
    if (page.size() != 4096) throw Error("the SNP CPUID page is one 4 KiB page");
    std::vector<const kvm_cpuid_entry2*> kept;
    for (const auto& e : cpuid) {
        const std::uint32_t index = (e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ? e.index : 0;
        if ((e.eax | e.ebx | e.ecx | e.edx) == 0 && !xsave_base_leaf(e.function, index)) continue;
        kept.push_back(&e);
    }
    if (kept.size() > kSnpCpuidMaxEntries)
        throw Error(fmt::format("this host's KVM reports {} CPUID leaves with non-zero values ({} in all); the SNP "
                                "firmware's CPUID table holds at most {}", kept.size(), cpuid.size(),
                                kSnpCpuidMaxEntries));
    std::fill(page.begin(), page.end(), 0);
    le::write<std::uint32_t>(page, 0, static_cast<std::uint32_t>(kept.size()));
    for (std::size_t i = 0; i < kept.size(); ++i) {
        const auto& e = *kept[i];
        const std::uint32_t index = (e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ? e.index : 0;
        const bool xsave = xsave_base_leaf(e.function, index);
        const std::size_t at = kCpuidHeader + i * kCpuidEntry;
        le::write<std::uint32_t>(page, at, e.function);
        le::write<std::uint32_t>(page, at + 4, index);
        le::write<std::uint64_t>(page, at + 8, xsave ? 1 : 0);   // xcr0_in
        le::write<std::uint64_t>(page, at + 16, 0);              // xss_in
        le::write<std::uint32_t>(page, at + 24, e.eax);
        le::write<std::uint32_t>(page, at + 28, xsave ? 0x240 : e.ebx);  // XSAVE area of x87 + SSE state
        le::write<std::uint32_t>(page, at + 32, e.ecx);
        le::write<std::uint32_t>(page, at + 36, e.edx);
    }
    return kept.size();
}

std::vector<std::string> cpuid_page_changes(std::span<const std::uint8_t> ours, std::span<const std::uint8_t> firmware) {
    if (ours.size() != 4096 || firmware.size() != 4096) throw Error("the SNP CPUID page is one 4 KiB page");
    const auto count = le::read<std::uint32_t>(ours, 0), fixed = le::read<std::uint32_t>(firmware, 0);
    if (count != fixed) return {fmt::format("entry count {} -> {}", count, fixed)};
    if (count > kSnpCpuidMaxEntries) return {fmt::format("entry count {} exceeds {}", count, kSnpCpuidMaxEntries)};
    static constexpr const char* kRegs[] = {"eax", "ebx", "ecx", "edx"};
    std::vector<std::string> changes;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::size_t at = kCpuidHeader + i * kCpuidEntry;
        std::string line;
        for (int r = 0; r < 4; ++r) {
            const auto a = le::read<std::uint32_t>(ours, at + 24 + 4 * r), b = le::read<std::uint32_t>(firmware, at + 24 + 4 * r);
            if (a != b) line += fmt::format("{}{} {:#010x} -> {:#010x}", line.empty() ? "" : ", ", kRegs[r], a, b);
        }
        if (!line.empty())
            changes.push_back(fmt::format("leaf {:#x} subleaf {:#x}: {}", le::read<std::uint32_t>(ours, at),
                                          le::read<std::uint32_t>(ours, at + 4), line));
    }
    return changes;
}

} // namespace cvm::sev
