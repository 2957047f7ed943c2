// The AMD SEV / SEV-ES / SEV-SNP part of the Linux UAPI that libcvm uses.
//
// Debian 12's linux-libc-dev (6.1) has KVM_MEMORY_ENCRYPT_OP and the 6.1 SEV
// command structs, but not KVM_SEV_INIT2, struct kvm_sev_init, the SNP
// commands, the KVM_X86_*_VM types, guest_memfd or memory attributes. So the
// definitions live here, in their own namespace, matching upstream
// arch/x86/include/uapi/asm/kvm.h and include/uapi/linux/kvm.h as of Linux
// 6.11 (kvm-x86 tree @3cfc1a8e, which is a superset), and
// include/uapi/linux/psp-sev.h. Every size and offset is asserted; where
// the distribution's header has the same struct, the two are asserted equal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <linux/ioctl.h>
#include <linux/kvm.h>
#include <linux/psp-sev.h>

#include "libcvm/kvm/guest_memfd_uapi.hpp"

namespace cvm::sev::uapi {

// --- VM types for KVM_CREATE_VM (KVM_CAP_VM_TYPES) ---
constexpr unsigned long kVmTypeDefault = 0;
constexpr unsigned long kVmTypeSev = 2;
constexpr unsigned long kVmTypeSevEs = 3;
constexpr unsigned long kVmTypeSnp = 4;

// --- KVM_MEMORY_ENCRYPT_OP command ids (enum sev_cmd_id) ---
enum CommandId : std::uint32_t {
    kSevInit = 0,
    kSevEsInit = 1,
    kLaunchStart = 2,
    kLaunchUpdateData = 3,
    kLaunchUpdateVmsa = 4,
    kLaunchSecret = 5,
    kLaunchMeasure = 6,
    kLaunchFinish = 7,
    kGuestStatus = 16,
    kGetAttestationReport = 20,
    kSevInit2 = 22,
    kSnpLaunchStart = 100,
    kSnpLaunchUpdate = 101,
    kSnpLaunchFinish = 102,
};
// The 6.1 part of the enum is the distribution's; the rest is upstream's.
constexpr bool same_id(CommandId ours, int distro) { return static_cast<int>(ours) == distro; }
static_assert(same_id(kSevInit, KVM_SEV_INIT) && same_id(kSevEsInit, KVM_SEV_ES_INIT));
static_assert(same_id(kLaunchStart, KVM_SEV_LAUNCH_START) && same_id(kLaunchUpdateData, KVM_SEV_LAUNCH_UPDATE_DATA));
static_assert(same_id(kLaunchUpdateVmsa, KVM_SEV_LAUNCH_UPDATE_VMSA) && same_id(kLaunchSecret, KVM_SEV_LAUNCH_SECRET));
static_assert(same_id(kLaunchMeasure, KVM_SEV_LAUNCH_MEASURE) && same_id(kLaunchFinish, KVM_SEV_LAUNCH_FINISH));
static_assert(same_id(kGuestStatus, KVM_SEV_GUEST_STATUS));
static_assert(same_id(kGetAttestationReport, KVM_SEV_GET_ATTESTATION_REPORT));
static_assert(same_id(kSevInit2, KVM_SEV_NR_MAX), "INIT2 took the slot after SEND_CANCEL");

struct Command {        // struct kvm_sev_cmd
    std::uint32_t id;
    std::uint32_t pad0;
    std::uint64_t data;
    std::uint32_t error;
    std::uint32_t sev_fd;
};
static_assert(sizeof(Command) == 24 && sizeof(Command) == sizeof(kvm_sev_cmd));
static_assert(offsetof(Command, data) == offsetof(kvm_sev_cmd, data) && offsetof(Command, data) == 8);
static_assert(offsetof(Command, error) == offsetof(kvm_sev_cmd, error) && offsetof(Command, error) == 16);
static_assert(offsetof(Command, sev_fd) == offsetof(kvm_sev_cmd, sev_fd) && offsetof(Command, sev_fd) == 20);

struct Init {           // struct kvm_sev_init (upstream 6.10+)
    std::uint64_t vmsa_features;
    std::uint32_t flags;
    std::uint16_t ghcb_version;
    std::uint16_t pad1;
    std::uint32_t pad2[8];
};
static_assert(sizeof(Init) == 48);
static_assert(offsetof(Init, flags) == 8 && offsetof(Init, ghcb_version) == 12 && offsetof(Init, pad2) == 16);

struct LaunchStart {    // struct kvm_sev_launch_start
    std::uint32_t handle;
    std::uint32_t policy;
    std::uint64_t dh_uaddr;
    std::uint32_t dh_len;
    std::uint32_t pad0;
    std::uint64_t session_uaddr;
    std::uint32_t session_len;
    std::uint32_t pad1;
};
static_assert(sizeof(LaunchStart) == 40 && sizeof(LaunchStart) == sizeof(kvm_sev_launch_start));
static_assert(offsetof(LaunchStart, policy) == 4 && offsetof(LaunchStart, dh_uaddr) == 8);
static_assert(offsetof(LaunchStart, dh_len) == 16 && offsetof(LaunchStart, session_uaddr) == 24);
static_assert(offsetof(LaunchStart, session_len) == 32);
static_assert(offsetof(LaunchStart, session_uaddr) == offsetof(kvm_sev_launch_start, session_uaddr));

struct LaunchUpdateData {   // struct kvm_sev_launch_update_data
    std::uint64_t uaddr;
    std::uint32_t len;
    std::uint32_t pad0;
};
static_assert(sizeof(LaunchUpdateData) == 16 && sizeof(LaunchUpdateData) == sizeof(kvm_sev_launch_update_data));
static_assert(offsetof(LaunchUpdateData, len) == 8);

struct LaunchSecret {   // struct kvm_sev_launch_secret
    std::uint64_t hdr_uaddr;
    std::uint32_t hdr_len;
    std::uint32_t pad0;
    std::uint64_t guest_uaddr;
    std::uint32_t guest_len;
    std::uint32_t pad1;
    std::uint64_t trans_uaddr;
    std::uint32_t trans_len;
    std::uint32_t pad2;
};
static_assert(sizeof(LaunchSecret) == 48 && sizeof(LaunchSecret) == sizeof(kvm_sev_launch_secret));
static_assert(offsetof(LaunchSecret, hdr_len) == 8 && offsetof(LaunchSecret, guest_uaddr) == 16);
static_assert(offsetof(LaunchSecret, guest_len) == 24 && offsetof(LaunchSecret, trans_uaddr) == 32);
static_assert(offsetof(LaunchSecret, trans_len) == 40);

struct LaunchMeasure {  // struct kvm_sev_launch_measure
    std::uint64_t uaddr;
    std::uint32_t len;
    std::uint32_t pad0;
};
static_assert(sizeof(LaunchMeasure) == 16 && sizeof(LaunchMeasure) == sizeof(kvm_sev_launch_measure));

struct AttestationReport {  // struct kvm_sev_attestation_report
    std::uint8_t mnonce[16];
    std::uint64_t uaddr;
    std::uint32_t len;
    std::uint32_t pad0;
};
static_assert(sizeof(AttestationReport) == 32 && sizeof(AttestationReport) == sizeof(kvm_sev_attestation_report));
static_assert(offsetof(AttestationReport, uaddr) == 16 && offsetof(AttestationReport, len) == 24);

struct SnpLaunchStart {     // struct kvm_sev_snp_launch_start
    std::uint64_t policy;
    std::uint8_t gosvw[16];
    std::uint16_t flags;
    std::uint8_t pad0[6];
    std::uint64_t pad1[4];
};
static_assert(sizeof(SnpLaunchStart) == 64);
static_assert(offsetof(SnpLaunchStart, gosvw) == 8 && offsetof(SnpLaunchStart, flags) == 24);
static_assert(offsetof(SnpLaunchStart, pad1) == 32);

struct SnpLaunchUpdate {    // struct kvm_sev_snp_launch_update
    std::uint64_t gfn_start;
    std::uint64_t uaddr;
    std::uint64_t len;
    std::uint8_t type;
    std::uint8_t pad0;
    std::uint16_t flags;
    std::uint32_t pad1;
    std::uint64_t pad2[4];
};
static_assert(sizeof(SnpLaunchUpdate) == 64);
static_assert(offsetof(SnpLaunchUpdate, uaddr) == 8 && offsetof(SnpLaunchUpdate, len) == 16);
static_assert(offsetof(SnpLaunchUpdate, type) == 24 && offsetof(SnpLaunchUpdate, flags) == 26);
static_assert(offsetof(SnpLaunchUpdate, pad2) == 32);

// KVM_SEV_SNP_PAGE_TYPE_*; 2 (VMSA) is used by the firmware only.
enum SnpPageType : std::uint8_t {
    kSnpPageNormal = 1,
    kSnpPageVmsa = 2,
    kSnpPageZero = 3,
    kSnpPageUnmeasured = 4,
    kSnpPageSecrets = 5,
    kSnpPageCpuid = 6,
};

// include/uapi/linux/kvm.h (x86): what snp_launch_finish copies from
// id_block_uaddr and id_auth_uaddr when id_block_en is set.
constexpr std::size_t kSnpIdBlockSize = 96;    // KVM_SEV_SNP_ID_BLOCK_SIZE
constexpr std::size_t kSnpIdAuthSize = 4096;   // KVM_SEV_SNP_ID_AUTH_SIZE

struct SnpLaunchFinish {    // struct kvm_sev_snp_launch_finish
    std::uint64_t id_block_uaddr;
    std::uint64_t id_auth_uaddr;
    std::uint8_t id_block_en;
    std::uint8_t auth_key_en;
    std::uint8_t vcek_disabled;
    std::uint8_t host_data[32];
    std::uint8_t pad0[3];
    std::uint16_t flags;
    std::uint64_t pad1[4];
};
static_assert(sizeof(SnpLaunchFinish) == 88);
static_assert(offsetof(SnpLaunchFinish, id_block_en) == 16 && offsetof(SnpLaunchFinish, host_data) == 19);
static_assert(offsetof(SnpLaunchFinish, pad0) == 51 && offsetof(SnpLaunchFinish, flags) == 54);
static_assert(offsetof(SnpLaunchFinish, pad1) == 56);

// KVM_MEMORY_ENCRYPT_OP takes a pointer; its request encodes sizeof(unsigned long).
constexpr unsigned long kMemoryEncryptOp = _IOWR(KVMIO, 0xba, unsigned long);
static_assert(kMemoryEncryptOp == KVM_MEMORY_ENCRYPT_OP && kMemoryEncryptOp == 0xc008aeba);

struct EncRegion {      // struct kvm_enc_region
    std::uint64_t addr;
    std::uint64_t size;
};
static_assert(sizeof(EncRegion) == 16 && sizeof(EncRegion) == sizeof(kvm_enc_region));
constexpr unsigned long kMemoryEncryptRegRegion = _IOR(KVMIO, 0xbb, EncRegion);
static_assert(kMemoryEncryptRegRegion == KVM_MEMORY_ENCRYPT_REG_REGION && kMemoryEncryptRegRegion == 0x8010aebb);

// --- guest_memfd and memory attributes (Linux 6.8+), for SNP ---
using CreateGuestMemfd = guest_memfd_uapi::CreateGuestMemfd;
using UserspaceMemoryRegion2 = guest_memfd_uapi::UserspaceMemoryRegion2;
using MemoryAttributes = guest_memfd_uapi::MemoryAttributes;
constexpr unsigned long kCreateGuestMemfd = guest_memfd_uapi::kCreateGuestMemfd;
constexpr unsigned long kSetUserMemoryRegion2 = guest_memfd_uapi::kSetUserMemoryRegion2;
constexpr unsigned long kSetMemoryAttributes = guest_memfd_uapi::kSetMemoryAttributes;
constexpr std::uint32_t kMemGuestMemfd = guest_memfd_uapi::kMemGuestMemfd;
constexpr std::uint64_t kMemoryAttributePrivate = guest_memfd_uapi::kMemoryAttributePrivate;

// --- KVM capabilities and attributes an SEV launch checks first ---
constexpr long kCapExitHypercall = 201;              // KVM_CAP_EXIT_HYPERCALL: mask of hypercalls userspace may take
// KVM_GET_DEVICE_ATTR on /dev/kvm (arch/x86/include/uapi/asm/kvm.h, 6.10+):
// group KVM_X86_GRP_SEV, attribute KVM_X86_SEV_VMSA_FEATURES.
constexpr std::uint32_t kX86GrpSev = 1;
constexpr std::uint64_t kX86SevVmsaFeatures = 0;
static_assert(sizeof(kvm_device_attr) == 24 && KVM_GET_DEVICE_ATTR == 0x4018aee2);

// --- /dev/sev (include/uapi/linux/psp-sev.h, unchanged since 5.x) ---
struct IssueCommand {   // struct sev_issue_cmd, packed
    std::uint32_t cmd;
    std::uint64_t data;
    std::uint32_t error;
} __attribute__((packed));
static_assert(sizeof(IssueCommand) == 16 && sizeof(IssueCommand) == sizeof(sev_issue_cmd));
static_assert(offsetof(IssueCommand, data) == 4 && offsetof(IssueCommand, error) == 12);
constexpr unsigned long kSevIssueCmd = _IOWR('S', 0x0, IssueCommand);
static_assert(kSevIssueCmd == SEV_ISSUE_CMD && kSevIssueCmd == 0xc0105300);

constexpr std::uint32_t kPlatformStatus = SEV_PLATFORM_STATUS;
constexpr std::uint32_t kPdhCertExport = SEV_PDH_CERT_EXPORT;
constexpr std::uint32_t kGetId2 = SEV_GET_ID2;
static_assert(kPlatformStatus == 1 && kPdhCertExport == 5 && kGetId2 == 8);

struct PlatformStatus {     // struct sev_user_data_status, packed
    std::uint8_t api_major;
    std::uint8_t api_minor;
    std::uint8_t state;
    std::uint32_t flags;
    std::uint8_t build;
    std::uint32_t guest_count;
} __attribute__((packed));
static_assert(sizeof(PlatformStatus) == 12 && sizeof(PlatformStatus) == sizeof(sev_user_data_status));
static_assert(offsetof(PlatformStatus, flags) == 3 && offsetof(PlatformStatus, build) == 7);
constexpr std::uint32_t kStatusFlagConfigEs = SEV_STATUS_FLAGS_CONFIG_ES;

struct PdhCertExport {      // struct sev_user_data_pdh_cert_export, packed
    std::uint64_t pdh_cert_address;
    std::uint32_t pdh_cert_len;
    std::uint64_t cert_chain_address;
    std::uint32_t cert_chain_len;
} __attribute__((packed));
static_assert(sizeof(PdhCertExport) == 24 && sizeof(PdhCertExport) == sizeof(sev_user_data_pdh_cert_export));
static_assert(offsetof(PdhCertExport, cert_chain_address) == 12 && offsetof(PdhCertExport, cert_chain_len) == 20);

struct GetId2 {             // struct sev_user_data_get_id2, packed
    std::uint64_t address;
    std::uint32_t length;
} __attribute__((packed));
static_assert(sizeof(GetId2) == 12 && sizeof(GetId2) == sizeof(sev_user_data_get_id2));

} // namespace cvm::sev::uapi
