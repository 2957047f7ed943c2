// vCPU set-up for SEV guests beyond the registers (x86::apply_registers):
// the SNP CPUID page made from the values of KVM_GET_SUPPORTED_CPUID
// (libcvm/x86/cpuid.hpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <linux/kvm.h>

#include "cvm/plan.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::sev {

// The CPUID bits an SNP guest must not be offered, cleared as QEMU's
// target/i386/sev.c does for SNP guests (sev_snp_mask_cpuid_features, now
// sev_snp_adjust_cpuid_features): the firmware's CPUID check refuses a
// CPUID page that offers them (TSC deadline, TSC_ADJUST, the speculation
// control MSRs, VIRT_SSBD), and the vCPUs get the same values.
void mask_cpuid_for_snp(std::vector<kvm_cpuid_entry2>& cpuid);

// The SNP CPUID page: the table of the SNP firmware ABI ("CPUID Reporting"):
// a count, then at most 64 48-byte entries. Entries whose four outputs are
// all zero are left out, as the ABI's table allows (a guest treats a leaf
// missing from the table as zero within the reported ranges: Linux
// arch/x86/boot/startup/sev-shared.c snp_cpuid); leaf 0xD subleaves 0 and 1
// are given for XCR0 = 1 (x87 only), as QEMU's CPUID page code gives them;
// the input ECX is the subleaf only where KVM marks it significant.
// Throws, naming the count and the limit, when more than 64 remain.
// Returns the number of entries written.
std::size_t fill_snp_cpuid_page(std::span<std::uint8_t> page, const std::vector<kvm_cpuid_entry2>& cpuid);
inline constexpr std::size_t kSnpCpuidMaxEntries = 64;

// What the firmware changed in a refused CPUID page (the kernel copies the
// corrected page back: arch/x86/kvm/svm/sev.c sev_gmem_post_populate), one
// line per entry that differs ("leaf 0x7 subleaf 0x0: ebx 0x... -> 0x..."),
// or the two counts if they differ, as QEMU's
// sev_snp_cpuid_report_mismatches reports them.
std::vector<std::string> cpuid_page_changes(std::span<const std::uint8_t> ours, std::span<const std::uint8_t> firmware);

} // namespace cvm::sev
