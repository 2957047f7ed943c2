#include "backends/amd-sev/sev_vcpu.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::sev {

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
