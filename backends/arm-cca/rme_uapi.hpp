// The two out-of-tree Linux KVM host ABIs for Arm CCA realms, and the arm64
// KVM definitions the realm launcher needs, written out here because neither
// ABI is in any distribution's headers and because this file must compile
// on every host (the x86 build tests the launcher at the ioctl seam).
//
//   "RME": Steven Price's "arm64: Support for Arm CCA in KVM" v5, v6 and v7
//          (2024-10-04, 2024-12-12, 2025-02-13), RMM 1.0: KVM_CAP_ARM_RME =
//          300 with KVM_ENABLE_CAP sub-commands, vCPU feature KVM_ARM_VCPU_REC
//          = 8. v7 keeps every number and struct of v6; it differs only in
//          how KVM_RUN reports a memory-fault exit (v6 returns 0, v7 -EFAULT:
//          "[PATCH v6 17/43] arm64: RME: Handle realm enter/exit",
//          <20241212155610.76522-18-steven.price@arm.com>, and its v7 change
//          log), which the core exit decoder accepts both ways.
//   "RMI": the same series from v12 (2025-12-17), v13 (2026-03-18) and v14
//          (2026-05-13), RMM 2.0 beta: KVM_CAP_ARM_RMI and KVM_ARM_RMI_POPULATE.
// Not offered: v8 (KVM_CAP_ARM_RME = 240), v9 (243) and v10 (244, REC
// feature 9); v11 is not covered. 240 and 243 are now mainline's
// KVM_CAP_ARM_EL2 and KVM_CAP_ARM_CACHEABLE_PFNMAP_SUPPORTED, so probing
// them on a kernel without the series would answer for something else. Every struct below is checked for size and
// field offsets against the layouts in those patches; all fields are
// little-endian on arm64, the only host these ABIs exist on.
#pragma once

#include <cstddef>
#include <cstdint>

#include <linux/ioctl.h>
#include <linux/kvm.h>

#include "libcvm/kvm/guest_memfd_uapi.hpp"

namespace cvm::cca::uapi {

// ---- Generic KVM, newer than Debian 12's 6.1 headers (Linux 6.8) ----

// Shared with every backend that has private memory: libcvm/kvm/guest_memfd_uapi.hpp.
using kvm_userspace_memory_region2 = guest_memfd_uapi::UserspaceMemoryRegion2;
using kvm_create_guest_memfd = guest_memfd_uapi::CreateGuestMemfd;
using kvm_memory_attributes = guest_memfd_uapi::MemoryAttributes;
inline constexpr std::uint32_t kKvmMemGuestMemfd = guest_memfd_uapi::kMemGuestMemfd;
inline constexpr std::uint64_t kKvmMemoryAttributePrivate = guest_memfd_uapi::kMemoryAttributePrivate;
inline constexpr unsigned long kKvmSetUserMemoryRegion2 = guest_memfd_uapi::kSetUserMemoryRegion2;
inline constexpr unsigned long kKvmCreateGuestMemfd = guest_memfd_uapi::kCreateGuestMemfd;
inline constexpr unsigned long kKvmSetMemoryAttributes = guest_memfd_uapi::kSetMemoryAttributes;

// ---- arm64 KVM (arch/arm64/include/uapi/asm/kvm.h), not in x86 headers ----

struct kvm_vcpu_init {
    std::uint32_t target;
    std::uint32_t features[7];
};
static_assert(sizeof(kvm_vcpu_init) == 32);
static_assert(offsetof(kvm_vcpu_init, features) == 4);

inline constexpr unsigned long kKvmArmVcpuInit = _IOW(KVMIO, 0xae, kvm_vcpu_init);
inline constexpr unsigned long kKvmArmPreferredTarget = _IOR(KVMIO, 0xaf, kvm_vcpu_init);
inline constexpr unsigned long kKvmArmVcpuFinalize = _IOW(KVMIO, 0xc2, int);
static_assert(kKvmArmVcpuInit == 0x4020aeae);
static_assert(kKvmArmPreferredTarget == 0x8020aeaf);
static_assert(kKvmArmVcpuFinalize == 0x4004aec2);

inline constexpr unsigned kVcpuFeaturePowerOff = 0;
inline constexpr unsigned kVcpuFeaturePsci02 = 2;

// KVM_{GET,SET}_ONE_REG ids: core registers by their offset in struct
// kvm_regs / 4 (X0..X30 at 8-byte steps, PC after SP), system registers by
// op0:op1:CRn:CRm:op2.
inline constexpr std::uint64_t kRegArm64 = 0x6000000000000000ull;
inline constexpr std::uint64_t kRegSizeU64 = 0x0030000000000000ull;
inline constexpr std::uint64_t kRegArmCore = 0x0010ull << 16;
inline constexpr std::uint64_t kRegArm64Sysreg = 0x0013ull << 16;
inline constexpr std::uint64_t core_reg_x(unsigned n) { return kRegArm64 | kRegSizeU64 | kRegArmCore | (2u * n); }
inline constexpr std::uint64_t kCoreRegPc = kRegArm64 | kRegSizeU64 | kRegArmCore | (2u * 32);
inline constexpr std::uint64_t sysreg(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2) {
    return kRegArm64 | kRegSizeU64 | kRegArm64Sysreg | (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}
inline constexpr std::uint64_t kIdAa64Dfr0El1 = sysreg(3, 0, 0, 5, 0);
static_assert(core_reg_x(0) == 0x6030000000100000ull);
static_assert(kCoreRegPc == 0x6030000000100040ull);
static_assert(kIdAa64Dfr0El1 == 0x603000000013c028ull);
// ID_AA64DFR0_EL1: BRPs at bits 15:12, WRPs at 23:20 and CTX_CMPs (the
// context-aware breakpoints among the BRPs) at 31:28, each count - 1.
inline constexpr unsigned kDfr0BrpsShift = 12, kDfr0WrpsShift = 20, kDfr0CtxCmpsShift = 28;

// KVM_CHECK_EXTENSION(KVM_CAP_ARM_VM_IPA_SIZE) on /dev/kvm: the largest IPA
// width KVM_CREATE_VM accepts; 0 on kernels that only offer the default 40.
inline constexpr long kCapArmVmIpaSize = 165;
inline constexpr unsigned kDefaultIpaBits = 40;

// The in-kernel GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3 and its attribute groups).
inline constexpr std::uint32_t kDevTypeArmVgicV3 = 7;
inline constexpr std::uint32_t kVgicGroupAddr = 0;
inline constexpr std::uint32_t kVgicGroupCtrl = 4;
inline constexpr std::uint64_t kVgicV3AddrDist = 2;
inline constexpr std::uint64_t kVgicV3AddrRedist = 3;
inline constexpr std::uint64_t kVgicCtrlInit = 0;

// KVM_CREATE_VM type: bits 7:0 hold the IPA size (KVM_VM_TYPE_ARM_IPA_SIZE).
inline constexpr unsigned long kVmTypeIpaSizeMask = 0xff;

// ---- "RME" ABI, kernel series v5, v6, v7 (KVM_CAP_ARM_RME) ----
namespace rme {

inline constexpr long kCapArmRme = 300;                        // v5, v6, v7
inline constexpr unsigned long kVmTypeRealm = 1ul << 8;        // KVM_VM_TYPE_ARM_REALM
inline constexpr unsigned kVcpuFeatureRec = 8;                 // KVM_ARM_VCPU_REC

// KVM_ENABLE_CAP(KVM_CAP_ARM_RME) args[0] sub-commands.
inline constexpr std::uint64_t kConfigRealm = 0;
inline constexpr std::uint64_t kCreateRd = 1;
inline constexpr std::uint64_t kInitIpaRealm = 2;
inline constexpr std::uint64_t kPopulateRealm = 3;
inline constexpr std::uint64_t kActivateRealm = 4;

// CONFIG_REALM items.
inline constexpr std::uint32_t kCfgRpv = 0;
inline constexpr std::uint32_t kCfgHashAlgo = 1;
inline constexpr std::uint32_t kHashSha256 = 0;
inline constexpr std::uint32_t kHashSha512 = 1;

struct kvm_cap_arm_rme_config_item {
    std::uint32_t cfg;
    union {
        std::uint8_t rpv[64];
        std::uint32_t hash_algo;
        std::uint8_t reserved[256];
    };
};
static_assert(sizeof(kvm_cap_arm_rme_config_item) == 260);
static_assert(offsetof(kvm_cap_arm_rme_config_item, rpv) == 4);
static_assert(offsetof(kvm_cap_arm_rme_config_item, hash_algo) == 4);

inline constexpr std::uint32_t kPopulateFlagsMeasure = 1u << 0;
struct kvm_cap_arm_rme_populate_realm_args {
    std::uint64_t populate_ipa_base;
    std::uint64_t populate_ipa_size;
    std::uint32_t flags;
    std::uint32_t reserved[3];
};
static_assert(sizeof(kvm_cap_arm_rme_populate_realm_args) == 32);
static_assert(offsetof(kvm_cap_arm_rme_populate_realm_args, populate_ipa_size) == 8);
static_assert(offsetof(kvm_cap_arm_rme_populate_realm_args, flags) == 16);

struct kvm_cap_arm_rme_init_ipa_args {
    std::uint64_t init_ipa_base;
    std::uint64_t init_ipa_size;
    std::uint32_t reserved[4];
};
static_assert(sizeof(kvm_cap_arm_rme_init_ipa_args) == 32);
static_assert(offsetof(kvm_cap_arm_rme_init_ipa_args, init_ipa_size) == 8);

} // namespace rme

// ---- "RMI" ABI, kernel series v12, v13, v14 (KVM_CAP_ARM_RMI) ----
namespace rmi {

inline constexpr long kCapArmRmiV12 = 247;
inline constexpr long kCapArmRmiV13 = 248;
inline constexpr long kCapArmRmiV14 = 249;
inline constexpr unsigned long kVmTypeRealmV12 = 1ul << 8;   // v12, v13
inline constexpr unsigned long kVmTypeRealmV14 = 1ul << 30;  // v14

inline constexpr std::uint32_t kPopulateFlagsMeasure = 1u << 0;
struct kvm_arm_rmi_populate {
    std::uint64_t base;
    std::uint64_t size;
    std::uint64_t source_uaddr;
    std::uint32_t flags;
    std::uint32_t reserved;
};
static_assert(sizeof(kvm_arm_rmi_populate) == 32);
static_assert(offsetof(kvm_arm_rmi_populate, size) == 8);
static_assert(offsetof(kvm_arm_rmi_populate, source_uaddr) == 16);
static_assert(offsetof(kvm_arm_rmi_populate, flags) == 24);
static_assert(offsetof(kvm_arm_rmi_populate, reserved) == 28);

// v12 is write-only and returns the bytes populated (kvm_arm_rmi_populate
// returns pages * PAGE_SIZE, <20251217101125.91098-21-steven.price@arm.com>);
// the ioctl(2) wrapper returns an int, so one call must stay below 2 GiB.
// v13/v14 update the struct in place and return 0.
inline constexpr std::uint64_t kMaxV12PopulateBytes = 1ull << 30;
inline constexpr unsigned long kPopulateV12 = _IOW(KVMIO, 0xd7, kvm_arm_rmi_populate);
inline constexpr unsigned long kPopulateV13 = _IOWR(KVMIO, 0xd7, kvm_arm_rmi_populate);
static_assert(kPopulateV12 == 0x4020aed7);
static_assert(kPopulateV13 == 0xc020aed7);

} // namespace rmi

// KVM_ENABLE_CAP itself (struct kvm_enable_cap is generic and in the 6.1 headers).
static_assert(sizeof(kvm_enable_cap) == 104);
static_assert(KVM_ENABLE_CAP == 0x4068aea3);

} // namespace cvm::cca::uapi
