#include "backends/amd-sev/vmsa.hpp"

#include <set>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::sev {
namespace {

struct Field {
    std::string_view name;
    std::size_t offset;
    std::size_t width;  // bytes
};

// struct sev_es_save_area (arch/x86/include/asm/svm.h); a segment is
// {u16 selector; u16 attrib; u32 limit; u64 base}.
#define SEGMENT(seg, at) \
    {seg ".selector", at, 2}, {seg ".attrib", at + 2, 2}, {seg ".limit", at + 4, 4}, {seg ".base", at + 8, 8}
constexpr Field kFields[] = {
    SEGMENT("es", 0x000), SEGMENT("cs", 0x010), SEGMENT("ss", 0x020), SEGMENT("ds", 0x030),
    SEGMENT("fs", 0x040), SEGMENT("gs", 0x050), SEGMENT("ldtr", 0x070), SEGMENT("tr", 0x090),
    {"gdtr.limit", 0x064, 4}, {"gdtr.base", 0x068, 8},
    {"idtr.limit", 0x084, 4}, {"idtr.base", 0x088, 8},
    {"efer", 0x0d0, 8}, {"cr4", 0x148, 8}, {"cr3", 0x150, 8}, {"cr0", 0x158, 8},
    {"dr7", 0x160, 8}, {"dr6", 0x168, 8}, {"rflags", 0x170, 8}, {"rip", 0x178, 8},
    {"rsp", 0x1d8, 8}, {"rax", 0x1f8, 8}, {"pat", 0x268, 8},
    {"rcx", 0x308, 8}, {"rdx", 0x310, 8}, {"rbx", 0x318, 8},
    {"rbp", 0x328, 8}, {"rsi", 0x330, 8}, {"rdi", 0x338, 8},
    {"r8", 0x340, 8}, {"r9", 0x348, 8}, {"r10", 0x350, 8}, {"r11", 0x358, 8},
    {"r12", 0x360, 8}, {"r13", 0x368, 8}, {"r14", 0x370, 8}, {"r15", 0x378, 8},
    {"xcr0", 0x3e8, 8}, {"mxcsr", 0x408, 4}, {"fcw", 0x410, 2},
};
#undef SEGMENT

constexpr std::size_t kSevFeatures = 0x3b0;
constexpr std::uint64_t kEferSvme = 1ull << 12;
constexpr std::uint64_t kCr4Mce = 1ull << 6;

const Field* find_field(std::string_view name) {
    for (const auto& f : kFields)
        if (f.name == name) return &f;
    return nullptr;
}

} // namespace

bool is_vmsa_register(std::string_view name) { return find_field(name) != nullptr; }

VmsaPage build_vmsa(const op::SetRegisters& state, const LaunchConfig& config) {
    VmsaPage page{};
    std::set<std::string_view> seen;
    for (const auto& r : state.registers) {
        const Field* f = find_field(r.name);
        if (!f) throw Error(fmt::format("vCPU {}: register '{}' has no place in the SEV-ES VMSA model", state.vcpu, r.name));
        if (!seen.insert(f->name).second)
            throw Error(fmt::format("vCPU {}: register '{}' is set twice", state.vcpu, r.name));
        if (f->width < 8 && r.value >> (8 * f->width))
            throw Error(fmt::format("vCPU {}: {} = {:#x} does not fit in {} bytes", state.vcpu, r.name, r.value, f->width));
        bool fpu_control = r.name == "mxcsr" || r.name == "fcw";
        // The legacy KVM_SEV_ES_INIT path does not copy the FPU state into the VMSA.
        std::uint64_t value = fpu_control && config.init == InitKind::legacy ? 0 : r.value;
        switch (f->width) {
        case 2: le::write<std::uint16_t>(page, f->offset, static_cast<std::uint16_t>(value)); break;
        case 4: le::write<std::uint32_t>(page, f->offset, static_cast<std::uint32_t>(value)); break;
        default: le::write<std::uint64_t>(page, f->offset, value); break;
        }
    }
    le::write<std::uint64_t>(page, 0x0d0, le::read<std::uint64_t>(page, 0x0d0) | kEferSvme);
    le::write<std::uint64_t>(page, 0x148, le::read<std::uint64_t>(page, 0x148) | kCr4Mce);
    le::write<std::uint64_t>(page, kSevFeatures, config.sev_features);
    return page;
}

} // namespace cvm::sev
