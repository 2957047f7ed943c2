// The host-side KVM interface of RISC-V CoVE, as posted in the Linux series
// "[RFC 00/48] RISC-V CoVE support" (Atish Patra, 2023-04-19; patch 08/48
// "RISC-V: KVM: Add UABI to support static memory region attestation") and
// mirrored by rivosinc/kvmtool branch cove-integration-03072023 (commit 248ab48,
// include/linux/kvm.h). The series was never merged, so no distribution header
// carries these definitions and there is no upstream value to check them
// against; the numbers below are pinned to that RFC and asserted here.
//
// The kernel of that series drives the TSM through the COVH SBI extension
// numbered as in CoVE spec v0.5 (rivosinc/sbi-rs src/cove_host.rs). Spec v0.7
// renumbers the COVH functions (AddMeasuredPages 10 -> 11, ...), so a kernel
// built for one revision cannot talk to a TSM of the other: the revision is
// part of what a launch assumes and is spelled out as TsmAbi.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <linux/ioctl.h>
#include <linux/kvm.h>

namespace cvm::cove {

// KVM_CREATE_VM machine type for a TVM (RFC "Add ... CoVE VM type").
// [uncertain upstream] One QEMU CoVE patch uses 1 << 10; the RFC kernel and
// kvmtool use 1 << 9.
inline constexpr unsigned long kVmTypeRiscvCove = 1UL << 9;

// The argument of KVM_RISCV_COVE_MEASURE_REGION (RFC
// arch/riscv/include/uapi/asm/kvm.h). `unsigned long` there; RV64 only.
struct MeasureRegion {
    std::uint64_t userspace_addr;  // 4 KiB aligned host address of the bytes
    std::uint64_t gpa;             // 4 KiB aligned guest address
    std::uint64_t size;            // bytes; the kernel rounds up to whole pages
};
static_assert(sizeof(MeasureRegion) == 24);
static_assert(offsetof(MeasureRegion, userspace_addr) == 0);
static_assert(offsetof(MeasureRegion, gpa) == 8);
static_assert(offsetof(MeasureRegion, size) == 16);

// On the VM fd. The RFC declares it _IOR although the data flows in.
inline constexpr unsigned long kMeasureRegion = _IOR(KVMIO, 0xb5, MeasureRegion);
static_assert(kMeasureRegion == 0x8018aeb5, "RFC number of KVM_RISCV_COVE_MEASURE_REGION on RV64");

// KVM_SET_ONE_REG ids of the RISC-V core registers the boot vCPU needs
// (arch/riscv/include/uapi/asm/kvm.h: KVM_REG_RISCV | KVM_REG_SIZE_U64 |
// KVM_REG_RISCV_CORE | index into struct kvm_riscv_core, whose first member
// is user_regs_struct {pc, ra, sp, gp, tp, t0, t1, t2, s0, s1, a0, a1, ...}).
inline constexpr std::uint64_t kRegRiscv = 0x8000000000000000ULL;
inline constexpr std::uint64_t kRegSizeU64 = 0x0030000000000000ULL;
inline constexpr std::uint64_t kRegRiscvCore = 0x02ULL << 24;
inline constexpr std::uint64_t core_reg(unsigned index) { return kRegRiscv | kRegSizeU64 | kRegRiscvCore | index; }
inline constexpr std::uint64_t kRegPc = core_reg(0);
inline constexpr std::uint64_t kRegA0 = core_reg(10);
inline constexpr std::uint64_t kRegA1 = core_reg(11);
static_assert(kRegPc == 0x8030000002000000ULL);
static_assert(kRegA0 == 0x803000000200000aULL);
static_assert(kRegA1 == 0x803000000200000bULL);

// struct kvm_one_reg has no flexible array, so the distribution header's
// definition and ioctl number are correct in C++.
static_assert(sizeof(kvm_one_reg) == 16);
static_assert(offsetof(kvm_one_reg, id) == 0 && offsetof(kvm_one_reg, addr) == 8);
static_assert(KVM_SET_ONE_REG == 0x4010aeac);

// The COVH function numbering the TSM implements.
enum class TsmAbi {
    v0_5,  // sbi-rs / Salus / the 2023 RFC kernel: Finalize 6, AddMeasuredPages 10
    v0_7,  // spec v0.7 and later: promote_to_tvm 7, AddMeasuredPages 11
};
std::string_view to_string(TsmAbi abi);
TsmAbi parse_tsm_abi(std::string_view text);

// What each revision numbers the calls libcvm's launch depends on, for the
// record and the documentation; the host kernel makes these calls.
struct CovhFunctionIds {
    unsigned finalize;
    unsigned add_memory_region;
    unsigned add_measured_pages;
    unsigned create_vcpu;
};
constexpr CovhFunctionIds covh_function_ids(TsmAbi abi) {
    return abi == TsmAbi::v0_5 ? CovhFunctionIds{6, 8, 10, 13} : CovhFunctionIds{6, 9, 11, 14};
}

} // namespace cvm::cove
