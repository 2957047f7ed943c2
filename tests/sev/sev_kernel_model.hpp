// A model of the host kernel an SEV, SEV-ES or SNP launch talks to, for the
// launcher's seam tests: /dev/kvm, /dev/sev, the VM's KVM_MEMORY_ENCRYPT_OP
// commands, memory slots, guest_memfd, memory attributes and the vCPU
// calls, each answering as the kernel function named beside it in
// sev_kernel_model.cpp does (argument checks, state order, errno, the
// firmware status in kvm_sev_cmd.error), as of Linux 6.11+ (torvalds/linux
// arch/x86/kvm/svm/sev.c, drivers/crypto/ccp/sev-dev.c,
// virt/kvm/guest_memfd.c, virt/kvm/kvm_main.c, arch/x86/kvm/x86.c). Where
// the SEV firmware, not the kernel, refuses a step (a command in the wrong
// guest state, a too-short buffer, a CPUID page it does not accept), the
// model answers with the SEV_RET_* status of the SEV / SNP firmware ABI and
// the -EIO sev-dev.c turns every firmware status into.
//
// vCPU 0 plays a scripted guest. Before the script it checks what OVMF's
// reset vector needs (a CPUID with leaf 0x8000001f reporting SEV, else the
// guest triple-faults) and that the launch was finished (else VMRUN fails).
// A scripted memory fault is reported as KVM does (KVM_RUN returns -EFAULT
// with KVM_EXIT_MEMORY_FAULT); the next KVM_RUN checks that userspace
// converted exactly that range first, and faults again otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <linux/kvm.h>

#include "cvm/kvm.hpp"
#include "fake_kvm.hpp"

namespace cvmtest::sev {

// A bit the model's SNP firmware refuses to see offered in the CPUID page.
struct ForbiddenCpuid {
    std::uint32_t function, index;
    int reg;  // 0 eax, 1 ebx, 2 ecx, 3 edx
    std::uint32_t mask;
};

// One step of vCPU 0's guest.
struct GuestStep {
    FakeKvm::Exit exit;  // fills kvm_run; or, when empty, the memory fault below
    std::uint64_t fault_gpa = 0, fault_size = 0;
    bool fault_to_private = false;
    static GuestStep of(FakeKvm::Exit e) { return GuestStep{std::move(e)}; }
    static GuestStep memory_fault(std::uint64_t gpa, std::uint64_t size, bool to_private) {
        return GuestStep{{}, gpa, size, to_private};
    }
};

class SevKernelModel final : public cvm::KvmSeam {
public:
    SevKernelModel();

    // ---- the host ----
    std::uint32_t vm_types = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4);  // KVM_CAP_VM_TYPES
    bool sev_es_enabled = true;                  // kvm_amd.sev_es
    std::optional<std::uint64_t> vmsa_features = 1ull << 5;  // KVM_X86_SEV_VMSA_FEATURES (DebugSwap); none: ENXIO
    std::uint64_t exit_hypercall_mask = 1ull << 12;          // KVM_CAP_EXIT_HYPERCALL
    std::vector<kvm_cpuid_entry2> supported_cpuid;           // KVM_GET_SUPPORTED_CPUID
    std::vector<ForbiddenCpuid> firmware_forbidden;          // what SNP CPUID validation corrects
    unsigned populate_pages_per_call = 0;                    // 0: no limit (a signal cuts a populate short)
    // The transport keys (TEK, TIK) the firmware took from LAUNCH_START's
    // session. A real PSP unwraps them with its PDH private key; a test that
    // plays the guest owner hands the model the keys it wrapped. With them
    // the model's LAUNCH_MEASURE of a plain SEV guest is the real HMAC over
    // the data it was given, and LAUNCH_SECRET checks the packet's MAC and
    // decrypts it into guest memory. Without them MEASURE is 0xab bytes and
    // LAUNCH_SECRET checks only its arguments and the guest state.
    struct TransportKeys {
        std::array<std::uint8_t, 16> tek{}, tik{};
    };
    std::optional<TransportKeys> transport_keys;
    // The launch digest (GCTX.LD) the SNP firmware computed by
    // SNP_LAUNCH_FINISH. The model does not hash the pages and build the
    // VMSAs itself, so a test gives it the digest an outside tool computed for
    // the same launch; with it, an ID block's LD is checked (BAD_MEASUREMENT),
    // without it only the ID block's signatures and policy are.
    std::optional<std::array<std::uint8_t, 48>> launch_digest;

    // ---- the guest ----
    void script(std::deque<GuestStep> steps);

    // ---- what the kernel saw ----
    struct SevCall {
        std::uint32_t id;
        int result;
        std::uint32_t fw_error;
        std::vector<std::uint8_t> args;  // the command struct as passed in
        std::vector<std::uint8_t> data;  // LAUNCH_UPDATE_DATA / SNP_LAUNCH_UPDATE: the bytes the firmware took
    };
    struct Observed {
        unsigned long vm_type = ~0ul;
        std::uint64_t vmsa_features = 0;          // as KVM_SEV_INIT* set them (SNP: with SNPActive)
        std::uint64_t policy = 0;
        std::string guest_state;                  // the firmware's: none, lupdate, lsecret, running
        unsigned vmsas = 0;                       // VMSAs encrypted (LAUNCH_UPDATE_VMSA / SNP_LAUNCH_FINISH)
        std::uint64_t exit_hypercall_enabled = 0;
        std::map<unsigned, std::vector<kvm_cpuid_entry2>> cpuid;  // KVM_SET_CPUID2 per vCPU id
        std::set<std::uint64_t> populated;        // GFNs SNP_LAUNCH_UPDATE made guest-owned
        unsigned faults_reported = 0, refaults = 0, steps_run = 0;
        std::vector<std::string> refused;         // "<call>: <errno or firmware status>"
        std::vector<std::uint8_t> launch_start_session;  // what psp_copy_user_blob copied for LAUNCH_START
        std::vector<std::uint8_t> secret_plaintext;      // what LAUNCH_SECRET decrypted (with transport_keys)
        std::uint64_t secret_uaddr = 0;                  // the host address it went to
        // SNP_LAUNCH_FINISH: the flags, the bytes the kernel copied, and the
        // identities the firmware took into the guest context (what every
        // report carries: SHA-384 of the 0x404-byte public keys).
        bool id_block_en = false, auth_key_en = false;
        std::vector<std::uint8_t> id_block, id_auth;
        std::array<std::uint8_t, 48> id_key_digest{}, author_key_digest{};
    };
    Observed seen() const;
    std::vector<SevCall> sev_calls() const;
    std::vector<std::string> log() const;
    std::map<std::string, std::vector<std::uint8_t>> vcpu_state() const;
    // True/false when every page of [gpa, gpa+size) is private/shared; nothing when mixed.
    std::optional<bool> private_attribute(std::uint64_t gpa, std::uint64_t size) const;

    int open(const char* path, int flags) override;
    int ioctl(int fd, unsigned long request, void* arg) override;
    int mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) override;

    static constexpr std::uint32_t kMeasureSize = 48;  // MEASURE || MNONCE
    static constexpr std::uint32_t kReportSize = 208;  // what the model's firmware answers for an attestation report

private:
    enum class Role { kvm, sev, vm, vcpu, gmem };
    struct Vcpu {
        unsigned id = 0;
        bool cpuid_set = false, ran = false, protected_state = false;
        std::uint64_t dr7 = 0x400;
    };
    struct Slot {
        std::uint64_t gpa, size, uaddr;
        int gmem;  // -1: no guest_memfd
        std::uint64_t gmem_offset;
    };
    enum class Guest { none, lupdate, lsecret, running };

    int refuse(const std::string& call, int err);
    int system_ioctl(unsigned long request, void* arg);
    int sev_issue(void* arg);
    int vm_ioctl(unsigned long request, void* arg, const std::string& name);
    int vcpu_ioctl(Vcpu& vcpu, int fd, unsigned long request, void* arg, const std::string& name);
    int check_extension_vm(unsigned long cap) const;
    int set_region(std::uint32_t slot, std::uint32_t flags, std::uint64_t gpa, std::uint64_t size,
                   std::uint64_t uaddr, int gmem, std::uint64_t gmem_offset, bool v2);
    int mem_enc_op(void* arg);
    int command(std::uint32_t id, void* data, std::uint32_t& error, SevCall& call);
    int snp_launch_update(void* data, std::uint32_t& error, SevCall& call);
    int snp_validate_cpuid(std::uint8_t* page);
    std::uint32_t snp_check_id_block(const std::uint8_t* block, const std::uint8_t* auth, bool author_key_en);
    int run(Vcpu& vcpu, int fd);
    const Slot* slot_at(std::uint64_t gfn) const;
    bool has_private_mem() const { return vm_type_ == 4; }
    bool snp_guest() const { return sev_active_ && snp_active_; }
    const char* state_name() const;

    mutable std::mutex mutex_;
    std::map<int, Role> roles_;
    std::map<int, Vcpu> vcpus_;
    std::map<int, std::uint64_t> gmem_;        // fd -> size
    std::map<std::uint32_t, Slot> slots_;
    std::set<std::uint64_t> private_gfns_;
    int vm_fd_ = -1;
    unsigned long vm_type_ = 0;
    bool sev_active_ = false, es_active_ = false, snp_active_ = false, need_init_ = false;
    std::uint64_t features_ = 0;
    bool snp_context_ = false;
    std::uint32_t handle_ = 0;
    Guest guest_ = Guest::none;
    unsigned created_vcpus_ = 0;
    std::deque<GuestStep> steps_;
    std::optional<GuestStep> pending_fault_;
    bool cpuid_checked_ = false;
    std::vector<SevCall> calls_;
    std::vector<std::string> log_;
    std::map<std::string, std::vector<std::uint8_t>> vcpu_state_;
    Observed seen_;
    std::vector<std::uint8_t> launch_data_;           // LAUNCH_UPDATE_DATA's bytes, in order
    std::array<std::uint8_t, 32> measure_{};          // the MEASURE LAUNCH_MEASURE handed out
    int launch_secret(const void* args, const std::string& name);
};

// The host CPUID the model reports by default: an EPYC-like set with SEV,
// SEV-ES and SNP in leaf 0x8000001f, the bits QEMU masks for SNP set, and one
// all-zero leaf.
std::vector<kvm_cpuid_entry2> default_host_cpuid();
// What the model's SNP firmware refuses by default: the bits QEMU masks.
std::vector<ForbiddenCpuid> default_firmware_forbidden();

} // namespace cvmtest::sev
