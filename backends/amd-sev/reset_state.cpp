#include "backends/amd-sev/reset_state.hpp"

#include <string>

#include "libcvm/x86/registers.hpp"

namespace cvm::sev {
namespace {

// Segment attributes in the VMCB's packed form: type | S<<4 | DPL<<5 | P<<7 | AVL/L/DB/G<<8..11.
constexpr std::uint64_t kDataAccessed = 0x93;   // present, read/write, accessed
constexpr std::uint64_t kCodeAccessed = 0x9b;   // present, execute/read, accessed
constexpr std::uint64_t kLdt = 0x82;
constexpr std::uint64_t kBusyTss32 = x86::kBusyTssAttrib;
// The x86 power-on value of the PAT MSR (AMD APM vol. 2, A.3).
constexpr std::uint64_t kResetPat = 0x0007040600070406;
// What EC2 and GCE put in RDX (family 6), in place of the model's signature.
constexpr std::uint64_t kGenericSignature = 0x600;

struct VmmFlavour {
    std::uint64_t cs_bsp, cs_ap, ss, tr, pat, mxcsr, fcw;
    bool model_signature;  // RDX carries the vCPU model's signature
};

VmmFlavour flavour(VmmModel vmm) {
    switch (vmm) {
    case VmmModel::ec2: return {0x9a, kCodeAccessed, 0x92, 0x83, kResetPat, 0, 0, false};
    case VmmModel::gce: return {kCodeAccessed, kCodeAccessed, kDataAccessed, kBusyTss32, 0x00070106, 0, 0, false};
    case VmmModel::qemu: break;
    }
    return {kCodeAccessed, kCodeAccessed, kDataAccessed, kBusyTss32, kResetPat, 0x1f80, 0x037f, true};
}

} // namespace

op::SetRegisters reset_registers(unsigned vcpu, std::uint32_t eip, VmmModel vmm, std::uint32_t signature) {
    const VmmFlavour f = flavour(vmm);
    op::SetRegisters state;
    state.vcpu = vcpu;
    auto& r = state.registers;
    auto segment = [&](const char* name, std::uint64_t selector, std::uint64_t attrib, std::uint64_t base) {
        x86::add_segment(r, name, x86::Segment{static_cast<std::uint16_t>(selector),
                                               static_cast<std::uint16_t>(attrib), 0xffff, base});
    };
    segment("es", 0, kDataAccessed, 0);
    segment("cs", 0xf000, eip == kBspResetEip ? f.cs_bsp : f.cs_ap, eip & 0xffff0000u);
    segment("ss", 0, f.ss, 0);
    segment("ds", 0, kDataAccessed, 0);
    segment("fs", 0, kDataAccessed, 0);
    segment("gs", 0, kDataAccessed, 0);
    segment("ldtr", 0, kLdt, 0);
    segment("tr", 0, f.tr, 0);
    r.push_back({"gdtr.base", 0});
    r.push_back({"gdtr.limit", 0xffff});
    r.push_back({"idtr.base", 0});
    r.push_back({"idtr.limit", 0xffff});
    r.push_back({"cr0", 0x10});          // ET; KVM clears CD/NW of the architectural 0x60000010
    r.push_back({"cr3", 0});
    r.push_back({"cr4", 0});
    r.push_back({"efer", 0});
    r.push_back({"dr6", 0xffff0ff0});
    r.push_back({"dr7", 0x400});
    r.push_back({"rflags", 0x2});
    r.push_back({"rip", eip & 0xffffu});
    r.push_back({"rdx", f.model_signature ? signature : kGenericSignature});
    r.push_back({"pat", f.pat});
    r.push_back({"xcr0", 0x1});
    r.push_back({"mxcsr", f.mxcsr});
    r.push_back({"fcw", f.fcw});
    return state;
}

} // namespace cvm::sev
