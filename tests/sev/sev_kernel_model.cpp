#include "sev_kernel_model.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <linux/psp-sev.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/sha.h>

#include "backends/amd-sev/sev_uapi.hpp"
#include "libcvm/kvm/vcpu_exit.hpp"
#include "seam_recorder.hpp"

namespace cvmtest::sev {
namespace uapi = cvm::sev::uapi;
namespace guest_memfd_uapi = cvm::guest_memfd_uapi;

namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint32_t kFwBlobMax = 16 * 1024;  // include/linux/psp-sev.h SEV_FW_BLOB_MAX_SIZE
// arch/x86/kvm/svm/sev.c SNP_POLICY_MASK_VALID: API minor/major, SMT, RSVD_MBO, DEBUG, SINGLE_SOCKET.
constexpr std::uint64_t kSnpPolicyValid = 0xffffull | (1ull << 16) | (1ull << 17) | (1ull << 19) | (1ull << 20);
constexpr std::uint64_t kSnpPolicyMbo = 1ull << 17;
constexpr std::uint64_t kSevFeatSnpActive = 1;
constexpr std::size_t kRunSize = FakeKvm::kRunSize;
constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, std::uint64_t);
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, std::uint64_t);
constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, std::uint64_t);
constexpr int kMaxCpuidEntries = 256;  // arch/x86/include/asm/kvm_host.h KVM_MAX_CPUID_ENTRIES

// Requests whose size field differs between the distribution's flex-array
// structs and the ones the launcher spells out are matched by type and nr.
bool same_nr(unsigned long a, unsigned long b) { return _IOC_TYPE(a) == _IOC_TYPE(b) && _IOC_NR(a) == _IOC_NR(b); }

std::string name_of(unsigned long request) {
    if (request == uapi::kMemoryEncryptRegRegion) return "KVM_MEMORY_ENCRYPT_REG_REGION";
    if (request == uapi::kCreateGuestMemfd) return "KVM_CREATE_GUEST_MEMFD";
    if (request == uapi::kSetUserMemoryRegion2) return "KVM_SET_USER_MEMORY_REGION2";
    if (request == uapi::kSetMemoryAttributes) return "KVM_SET_MEMORY_ATTRIBUTES";
    if (request == KVM_ENABLE_CAP) return "KVM_ENABLE_CAP";
    if (request == KVM_GET_DEVICE_ATTR) return "KVM_GET_DEVICE_ATTR";
    if (request == KVM_GET_FPU) return "KVM_GET_FPU";
    if (request == KVM_SET_FPU) return "KVM_SET_FPU";
    if (request == KVM_SET_XCRS) return "KVM_SET_XCRS";
    if (request == KVM_SET_DEBUGREGS) return "KVM_SET_DEBUGREGS";
    if (same_nr(request, kSetMsrs)) return "KVM_SET_MSRS";
    if (same_nr(request, kSetCpuid2)) return "KVM_SET_CPUID2";
    if (same_nr(request, kGetSupportedCpuid)) return "KVM_GET_SUPPORTED_CPUID";
    return request_name(request);
}

const char* command_name(std::uint32_t id) {
    switch (id) {
    case uapi::kSevInit: return "KVM_SEV_INIT";
    case uapi::kSevEsInit: return "KVM_SEV_ES_INIT";
    case uapi::kLaunchStart: return "KVM_SEV_LAUNCH_START";
    case uapi::kLaunchUpdateData: return "KVM_SEV_LAUNCH_UPDATE_DATA";
    case uapi::kLaunchUpdateVmsa: return "KVM_SEV_LAUNCH_UPDATE_VMSA";
    case uapi::kLaunchSecret: return "KVM_SEV_LAUNCH_SECRET";
    case uapi::kLaunchMeasure: return "KVM_SEV_LAUNCH_MEASURE";
    case uapi::kLaunchFinish: return "KVM_SEV_LAUNCH_FINISH";
    case uapi::kGetAttestationReport: return "KVM_SEV_GET_ATTESTATION_REPORT";
    case uapi::kSevInit2: return "KVM_SEV_INIT2";
    case uapi::kSnpLaunchStart: return "KVM_SEV_SNP_LAUNCH_START";
    case uapi::kSnpLaunchUpdate: return "KVM_SEV_SNP_LAUNCH_UPDATE";
    case uapi::kSnpLaunchFinish: return "KVM_SEV_SNP_LAUNCH_FINISH";
    default: return "KVM_SEV_?";
    }
}

std::size_t command_size(std::uint32_t id) {
    switch (id) {
    case uapi::kLaunchStart: return sizeof(uapi::LaunchStart);
    case uapi::kLaunchUpdateData: return sizeof(uapi::LaunchUpdateData);
    case uapi::kLaunchSecret: return sizeof(uapi::LaunchSecret);
    case uapi::kLaunchMeasure: return sizeof(uapi::LaunchMeasure);
    case uapi::kGetAttestationReport: return sizeof(uapi::AttestationReport);
    case uapi::kSevInit2: return sizeof(uapi::Init);
    case uapi::kSnpLaunchStart: return sizeof(uapi::SnpLaunchStart);
    case uapi::kSnpLaunchUpdate: return sizeof(uapi::SnpLaunchUpdate);
    case uapi::kSnpLaunchFinish: return sizeof(uapi::SnpLaunchFinish);
    default: return 0;
    }
}

std::uint32_t& reg_of(std::uint8_t* entry, int reg) {
    return *reinterpret_cast<std::uint32_t*>(entry + 24 + 4 * reg);
}

kvm_cpuid_entry2 leaf(std::uint32_t function, std::uint32_t index, bool indexed, std::uint32_t eax,
                      std::uint32_t ebx, std::uint32_t ecx, std::uint32_t edx) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
    e.eax = eax;
    e.ebx = ebx;
    e.ecx = ecx;
    e.edx = edx;
    return e;
}

} // namespace

std::vector<kvm_cpuid_entry2> default_host_cpuid() {
    return {
        leaf(0, 0, false, 0x10, 0x68747541, 0x444d4163, 0x69746e65),  // "AuthenticAMD"
        leaf(1, 0, false, 0x00a00f11, 0x00000800, 0xfef83203 | (1u << 24), 0x178bfbff),
        leaf(6, 0, false, 0, 0, 0, 0),  // all zero: an SNP CPUID page may leave it out
        leaf(7, 0, true, 0, 0x219c97a9 | (1u << 1), 0x0040069c, 0xfc000010),
        leaf(0xd, 0, true, 0x7, 0x340, 0x340, 0),
        leaf(0xd, 1, true, 0xf, 0x340, 0, 0),
        leaf(0xd, 2, true, 0x100, 0x240, 0, 0),
        leaf(0x80000000, 0, false, 0x80000021, 0x68747541, 0x444d4163, 0x69746e65),
        leaf(0x80000001, 0, false, 0x00a00f11, 0, 0x75c237ff, 0x2fd3fbff),
        leaf(0x80000008, 0, false, 0x3030, 0x0100d205 | (1u << 25), 0, 0),
        // SEV (bit 1), SEV-ES (3), SNP (4); C-bit position 51.
        leaf(0x8000001f, 0, false, 0x1b, 0x00000173, 0x1fd, 0x80),
        leaf(0x80000021, 0, false, 0x62fcf, 0, 0, 0),
    };
}

std::vector<ForbiddenCpuid> default_firmware_forbidden() {
    return {{1, 0, 2, 1u << 24}, {7, 0, 1, 1u << 1}, {7, 0, 3, 0xfc000000}, {0x80000008, 0, 1, 1u << 25}};
}

SevKernelModel::SevKernelModel()
    : supported_cpuid(default_host_cpuid()), firmware_forbidden(default_firmware_forbidden()) {}

void SevKernelModel::script(std::deque<GuestStep> steps) {
    std::lock_guard lock(mutex_);
    steps_ = std::move(steps);
}

int SevKernelModel::refuse(const std::string& call, int err) {
    seen_.refused.push_back(fmt::format("{}: {}", call, err));
    return -err;
}

const char* SevKernelModel::state_name() const {
    switch (guest_) {
    case Guest::none: return "none";
    case Guest::lupdate: return "lupdate";
    case Guest::lsecret: return "lsecret";
    case Guest::running: return "running";
    }
    return "?";
}

int SevKernelModel::open(const char* path, int) {
    int fd = new_memfd(0);
    std::lock_guard lock(mutex_);
    log_.push_back(fmt::format("open {}", path));
    if (fd >= 0) roles_[fd] = std::string(path) == "/dev/sev" ? Role::sev : Role::kvm;
    return fd;
}

int SevKernelModel::mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) {
    {
        std::lock_guard lock(mutex_);
        auto v = vcpus_.find(fd);
        log_.push_back(v != vcpus_.end() ? fmt::format("mmap vcpu{}", v->second.id) : fmt::format("mmap fd{}", fd));
        // virt/kvm/kvm_main.c kvm_vcpu_mmap: only a vCPU's kvm_run (and rings) map.
        if (v == vcpus_.end()) return refuse("mmap", ENODEV);
    }
    void* p = ::mmap(nullptr, length, prot, flags, fd, offset);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
}

int SevKernelModel::ioctl(int fd, unsigned long request, void* arg) {
    if (request == KVM_RUN) {
        Vcpu* vcpu = nullptr;
        {
            std::lock_guard lock(mutex_);
            auto it = vcpus_.find(fd);
            if (it == vcpus_.end()) return -ENOTTY;
            vcpu = &it->second;
        }
        return run(*vcpu, fd);
    }
    std::lock_guard lock(mutex_);
    auto it = roles_.find(fd);
    if (it == roles_.end()) return -EBADF;
    const std::string name = name_of(request);
    int rc = -ENOTTY;
    std::string who;
    switch (it->second) {
    case Role::kvm:
        who = "kvm";
        rc = system_ioctl(request, arg);
        break;
    case Role::sev:
        who = "sev";
        rc = request == uapi::kSevIssueCmd ? sev_issue(arg) : -ENOTTY;
        break;
    case Role::vm:
        who = "vm";
        if (request == uapi::kMemoryEncryptOp) return mem_enc_op(arg);  // logs itself
        rc = vm_ioctl(request, arg, name);
        break;
    case Role::vcpu: {
        Vcpu& v = vcpus_.at(fd);
        who = fmt::format("vcpu{}", v.id);
        rc = vcpu_ioctl(v, fd, request, arg, name);
        break;
    }
    case Role::gmem: who = "gmem"; break;
    }
    if (request == uapi::kSevIssueCmd)
        log_.push_back(fmt::format("{} SEV_ISSUE_CMD {}", who, std::uint32_t{static_cast<uapi::IssueCommand*>(arg)->cmd}));
    else if (name == "KVM_CREATE_VM")
        log_.push_back(fmt::format("{} KVM_CREATE_VM({})", who, reinterpret_cast<std::uintptr_t>(arg)));
    else if (name != "KVM_IRQ_LINE")
        log_.push_back(who + " " + name);
    return rc;
}

// ---- /dev/kvm ----

int SevKernelModel::system_ioctl(unsigned long request, void* arg) {
    const auto value = reinterpret_cast<std::uintptr_t>(arg);
    if (request == KVM_GET_API_VERSION) return KVM_API_VERSION;
    if (request == KVM_GET_VCPU_MMAP_SIZE) return static_cast<int>(kRunSize);
    if (request == KVM_CHECK_EXTENSION) {
        // arch/x86/kvm/x86.c kvm_vm_ioctl_check_extension (system fd).
        if (value == 235) return static_cast<int>(vm_types);  // KVM_CAP_VM_TYPES
        if (value == uapi::kCapExitHypercall) return static_cast<int>(exit_hypercall_mask);
        return 0;
    }
    if (request == KVM_CREATE_VM) {
        // arch/x86/kvm/x86.c kvm_arch_init_vm: a type outside
        // kvm_caps.supported_vm_types is -EINVAL; one VM per model.
        if (value >= 32 || (vm_types & (1u << value)) == 0) return refuse("KVM_CREATE_VM", EINVAL);
        if (vm_fd_ >= 0) return refuse("KVM_CREATE_VM(second)", EBUSY);
        int fd = new_memfd(0);
        if (fd < 0) return fd;
        roles_[fd] = Role::vm;
        vm_fd_ = fd;
        vm_type_ = value;
        seen_.vm_type = value;
        // arch/x86/kvm/svm/sev.c sev_vm_init: the SEV types wait for KVM_SEV_INIT2.
        need_init_ = value == uapi::kVmTypeSev || value == uapi::kVmTypeSevEs || value == uapi::kVmTypeSnp;
        return fd;
    }
    if (same_nr(request, kGetSupportedCpuid)) {
        // arch/x86/kvm/cpuid.c kvm_dev_ioctl_get_cpuid: -E2BIG when nent is too small.
        auto* header = static_cast<std::uint32_t*>(arg);
        if (header[0] < supported_cpuid.size()) return refuse("KVM_GET_SUPPORTED_CPUID", E2BIG);
        header[0] = static_cast<std::uint32_t>(supported_cpuid.size());
        std::memcpy(header + 2, supported_cpuid.data(), supported_cpuid.size() * sizeof(kvm_cpuid_entry2));
        return 0;
    }
    if (request == KVM_GET_DEVICE_ATTR) {
        // arch/x86/kvm/x86.c kvm_x86_dev_get_attr -> sev.c sev_dev_get_attr.
        auto* attr = static_cast<kvm_device_attr*>(arg);
        if (attr->group != uapi::kX86GrpSev || attr->attr != uapi::kX86SevVmsaFeatures || !vmsa_features)
            return refuse("KVM_GET_DEVICE_ATTR", ENXIO);
        std::memcpy(reinterpret_cast<void*>(attr->addr), &*vmsa_features, sizeof(std::uint64_t));
        return 0;
    }
    return -ENOTTY;
}

int SevKernelModel::sev_issue(void* arg) {
    // drivers/crypto/ccp/sev-dev.c sev_ioctl: PLATFORM_STATUS, and the
    // length queries of PDH_CERT_EXPORT and GET_ID2 (-EIO, SEV_RET_INVALID_LEN).
    auto* cmd = static_cast<uapi::IssueCommand*>(arg);
    if (cmd->cmd == uapi::kPlatformStatus) {
        auto* s = reinterpret_cast<uapi::PlatformStatus*>(cmd->data);
        *s = uapi::PlatformStatus{1, 55, 2, sev_es_enabled ? uapi::kStatusFlagConfigEs : 0u, 21, 0};
        return 0;
    }
    if (cmd->cmd == uapi::kPdhCertExport) {
        auto* e = reinterpret_cast<uapi::PdhCertExport*>(cmd->data);
        if (e->pdh_cert_address == 0 || e->pdh_cert_len < 2084) {
            e->pdh_cert_len = 2084;
            e->cert_chain_len = 3 * 2084;
            cmd->error = SEV_RET_INVALID_LEN;
            return -EIO;
        }
        std::memset(reinterpret_cast<void*>(e->pdh_cert_address), 0x11, e->pdh_cert_len);
        return 0;
    }
    if (cmd->cmd == uapi::kGetId2) {
        auto* g = reinterpret_cast<uapi::GetId2*>(cmd->data);
        if (g->address == 0 || g->length < 64) {
            g->length = 64;
            cmd->error = SEV_RET_INVALID_LEN;
            return -EIO;
        }
        std::memset(reinterpret_cast<void*>(g->address), 0x22, g->length);
        return 0;
    }
    return -EINVAL;
}

// ---- the VM ----

int SevKernelModel::check_extension_vm(unsigned long cap) const {
    switch (cap) {
    case 231: return 1;                                                   // KVM_CAP_USER_MEMORY2
    case 233: return has_private_mem() ? static_cast<int>(guest_memfd_uapi::kMemoryAttributePrivate) : 0;  // kvm_supported_mem_attributes
    case 234: return has_private_mem() ? 1 : 0;                          // KVM_CAP_GUEST_MEMFD: kvm_arch_supports_gmem
    case 235: return static_cast<int>(vm_types);
    case uapi::kCapExitHypercall: return static_cast<int>(exit_hypercall_mask);
    default: return 0;
    }
}

const SevKernelModel::Slot* SevKernelModel::slot_at(std::uint64_t gfn) const {
    for (const auto& [id, s] : slots_)
        if (gfn >= s.gpa / kPage && gfn < (s.gpa + s.size) / kPage) return &s;
    return nullptr;
}

int SevKernelModel::set_region(std::uint32_t slot, std::uint32_t flags, std::uint64_t gpa, std::uint64_t size,
                               std::uint64_t uaddr, int gmem, std::uint64_t gmem_offset, bool v2) {
    const char* call = v2 ? "KVM_SET_USER_MEMORY_REGION2" : "KVM_SET_USER_MEMORY_REGION";
    // virt/kvm/kvm_main.c check_memory_region_flags: KVM_MEM_GUEST_MEMFD only
    // through the v2 ioctl and on a VM with private memory.
    if ((flags & guest_memfd_uapi::kMemGuestMemfd) && (!v2 || !has_private_mem())) return refuse(call, EINVAL);
    // __kvm_set_memory_region: page-aligned size, GPA and address.
    if (size % kPage || gpa % kPage || uaddr % kPage) return refuse(call, EINVAL);
    if (size == 0 || slots_.count(slot)) return refuse(call, EINVAL);  // the model has no deletes or moves
    for (const auto& [id, s] : slots_)
        if (gpa < s.gpa + s.size && s.gpa < gpa + size) return refuse(call, EEXIST);
    int bound = -1;
    if (flags & guest_memfd_uapi::kMemGuestMemfd) {
        // virt/kvm/guest_memfd.c kvm_gmem_bind: a guest_memfd of this VM, the
        // range inside it, page-aligned, not bound twice.
        auto g = gmem_.find(gmem);
        if (g == gmem_.end()) return refuse(call, EINVAL);
        if (gmem_offset % kPage || gmem_offset + size > g->second) return refuse(call, EINVAL);
        for (const auto& [id, s] : slots_)
            if (s.gmem == gmem && gmem_offset < s.gmem_offset + s.size && s.gmem_offset < gmem_offset + size)
                return refuse(call, EINVAL);
        bound = gmem;
    }
    slots_[slot] = Slot{gpa, size, uaddr, bound, gmem_offset};
    return 0;
}

int SevKernelModel::vm_ioctl(unsigned long request, void* arg, const std::string& name) {
    const auto value = reinterpret_cast<std::uintptr_t>(arg);
    if (request == KVM_CHECK_EXTENSION) return check_extension_vm(value);
    if (request == KVM_CREATE_IRQCHIP || request == KVM_IRQ_LINE) return 0;
    if (request == KVM_SET_USER_MEMORY_REGION) {
        const auto* r = static_cast<const kvm_userspace_memory_region*>(arg);
        return set_region(r->slot, r->flags, r->guest_phys_addr, r->memory_size, r->userspace_addr, -1, 0, false);
    }
    if (request == uapi::kSetUserMemoryRegion2) {
        const auto* r = static_cast<const guest_memfd_uapi::UserspaceMemoryRegion2*>(arg);
        return set_region(r->slot, r->flags, r->guest_phys_addr, r->memory_size, r->userspace_addr,
                          static_cast<int>(r->guest_memfd), r->guest_memfd_offset, true);
    }
    if (request == uapi::kCreateGuestMemfd) {
        // virt/kvm/kvm_main.c (KVM_CREATE_GUEST_MEMFD needs a VM that
        // supports it) and guest_memfd.c kvm_gmem_create: no flags this
        // model knows, size positive and page-aligned.
        const auto* c = static_cast<const guest_memfd_uapi::CreateGuestMemfd*>(arg);
        if (!has_private_mem() || c->flags || c->size == 0 || c->size % kPage)
            return refuse("KVM_CREATE_GUEST_MEMFD", EINVAL);
        int fd = new_memfd(c->size);
        if (fd < 0) return fd;
        roles_[fd] = Role::gmem;
        gmem_[fd] = c->size;
        return fd;
    }
    if (request == uapi::kSetMemoryAttributes) {
        // virt/kvm/kvm_main.c kvm_vm_ioctl_set_mem_attributes.
        const auto* a = static_cast<const guest_memfd_uapi::MemoryAttributes*>(arg);
        const std::uint64_t supported = has_private_mem() ? guest_memfd_uapi::kMemoryAttributePrivate : 0;
        if (a->flags || (a->attributes & ~supported)) return refuse(name, EINVAL);
        if (a->size == 0 || a->address + a->size < a->address) return refuse(name, EINVAL);
        if (a->address % kPage || a->size % kPage) return refuse(name, EINVAL);
        for (std::uint64_t g = a->address / kPage; g < (a->address + a->size) / kPage; ++g) {
            if (a->attributes) private_gfns_.insert(g);
            else private_gfns_.erase(g);
        }
        return 0;
    }
    if (request == uapi::kMemoryEncryptRegRegion) {
        // arch/x86/kvm/svm/sev.c sev_mem_enc_register_region -> sev_pin_memory.
        const auto* r = static_cast<const uapi::EncRegion*>(arg);
        if (!sev_active_) return refuse(name, ENOTTY);
        if (r->size == 0 || r->addr + r->size < r->addr) return refuse(name, EINVAL);
        return 0;
    }
    if (request == KVM_ENABLE_CAP) {
        // arch/x86/kvm/x86.c kvm_vm_ioctl_enable_cap, KVM_CAP_EXIT_HYPERCALL.
        const auto* cap = static_cast<const kvm_enable_cap*>(arg);
        if (cap->cap != uapi::kCapExitHypercall || (cap->args[0] & ~exit_hypercall_mask)) return refuse(name, EINVAL);
        seen_.exit_hypercall_enabled = cap->args[0];
        return 0;
    }
    if (request == KVM_CREATE_VCPU) {
        int fd = new_memfd(kRunSize);
        if (fd < 0) return fd;
        roles_[fd] = Role::vcpu;
        vcpus_[fd].id = static_cast<unsigned>(value);
        ++created_vcpus_;
        return fd;
    }
    return -ENOTTY;
}

// ---- vCPUs ----

int SevKernelModel::vcpu_ioctl(Vcpu& vcpu, int, unsigned long request, void* arg, const std::string& name) {
    // arch/x86/kvm/x86.c: once a VM type with protected state
    // (kvm->arch.has_protected_state: SEV-ES and SNP types) has encrypted a
    // vCPU's VMSA, its register ioctls are -EINVAL. Legacy KVM_SEV_ES_INIT
    // VMs have no such flag; their writes are silently lost.
    const bool has_protected_state = vm_type_ == uapi::kVmTypeSevEs || vm_type_ == uapi::kVmTypeSnp;
    const bool is_register_call = name.starts_with("KVM_SET_") || name.starts_with("KVM_GET_");
    if (is_register_call && name != "KVM_SET_CPUID2" && vcpu.protected_state && has_protected_state)
        return refuse(name + "(protected)", EINVAL);
    if (same_nr(request, kSetCpuid2)) {
        // arch/x86/kvm/cpuid.c kvm_vcpu_ioctl_set_cpuid2 / kvm_set_cpuid:
        // at most KVM_MAX_CPUID_ENTRIES, and no change after the first KVM_RUN.
        const auto* header = static_cast<const std::uint32_t*>(arg);
        if (header[0] > kMaxCpuidEntries) return refuse(name, E2BIG);
        if (vcpu.ran) return refuse(name + "(after KVM_RUN)", EBUSY);
        const auto* entries = reinterpret_cast<const kvm_cpuid_entry2*>(header + 2);
        seen_.cpuid[vcpu.id].assign(entries, entries + header[0]);
        vcpu.cpuid_set = true;
        return 0;
    }
    if (is_register_call && arg && _IOC_SIZE(request) && name.starts_with("KVM_SET_")) {
        auto* bytes = static_cast<const std::uint8_t*>(arg);
        vcpu_state_[fmt::format("vcpu{} {}", vcpu.id, name)].assign(bytes, bytes + _IOC_SIZE(request));
    }
    if (request == KVM_SET_DEBUGREGS) vcpu.dr7 = static_cast<const kvm_debugregs*>(arg)->dr7;
    if (name == "KVM_SET_MSRS") return static_cast<int>(*static_cast<const std::uint32_t*>(arg));
    if (request == KVM_GET_SREGS || request == KVM_GET_FPU || request == KVM_GET_REGS) {
        std::memset(arg, 0, _IOC_SIZE(request));
        return 0;
    }
    if (is_register_call) return 0;
    return -ENOTTY;
}

// ---- KVM_MEMORY_ENCRYPT_OP ----

// arch/x86/kvm/svm/sev.c sev_launch_secret, before the firmware is asked:
// sev_pin_memory(guest_uaddr, guest_len) refuses an empty or wrapping range
// (-EINVAL) (its -ENOMEM for memory that is not mapped is not modelled: the
// kernel pins any mapped user memory, and the model cannot tell which
// addresses are); the pinned pages must be physically contiguous
// (get_num_contig_pages, -EINVAL), which the model's host, backing guest
// memory with separate 4 KiB pages, grants only within one page; then
// psp_copy_user_blob copies the transport buffer and the header, each
// refused (-EINVAL) when its address or length is 0 or the length exceeds
// SEV_FW_BLOB_MAX_SIZE.
int SevKernelModel::launch_secret(const void* args, const std::string& name) {
    const auto* a = static_cast<const uapi::LaunchSecret*>(args);
    if (a->guest_len == 0 || a->guest_uaddr + a->guest_len < a->guest_uaddr) return refuse(name, EINVAL);
    if (a->guest_uaddr / kPage != (a->guest_uaddr + a->guest_len - 1) / kPage) return refuse(name, EINVAL);
    for (auto [uaddr, len] : {std::pair<std::uint64_t, std::uint32_t>{a->trans_uaddr, a->trans_len}, {a->hdr_uaddr, a->hdr_len}})
        if (!uaddr || !len || len > kFwBlobMax) return refuse(name, EINVAL);
    return 0;
}

int SevKernelModel::mem_enc_op(void* arg) {
    // arch/x86/kvm/svm/sev.c sev_mem_enc_ioctl.
    auto* cmd = static_cast<uapi::Command*>(arg);
    SevCall call{cmd->id, 0, 0, {}, {}};
    void* data = reinterpret_cast<void*>(cmd->data);
    if (std::size_t size = command_size(cmd->id); size && data) {
        auto* bytes = static_cast<std::uint8_t*>(data);
        call.args.assign(bytes, bytes + size);
    }
    std::uint32_t error = 0;
    int rc;
    if (snp_guest() && cmd->id < uapi::kSnpLaunchStart) {
        // Once INIT2 made an SNP guest, only the SNP commands are allowed.
        rc = refuse(command_name(cmd->id), EPERM);
    } else {
        rc = command(cmd->id, data, error, call);
        cmd->error = error;  // copied back to userspace with the result
    }
    call.result = rc;
    call.fw_error = error;
    if (rc < 0 && error) seen_.refused.push_back(fmt::format("{}: firmware {:#x}", command_name(cmd->id), error));
    calls_.push_back(std::move(call));
    log_.push_back(fmt::format("vm {}", command_name(cmd->id)));
    return rc;
}

int SevKernelModel::command(std::uint32_t id, void* data, std::uint32_t& error, SevCall& call) {
    // The firmware's answer: a status in `error` and -EIO
    // (drivers/crypto/ccp/sev-dev.c __sev_do_cmd_locked).
    auto firmware = [&error](std::uint32_t status) {
        error = status;
        return -EIO;
    };
    const char* name = command_name(id);
    switch (id) {
    case uapi::kSevInit:
    case uapi::kSevEsInit:
    case uapi::kSevInit2: {
        // sev_guest_init (legacy: only on a default VM) / sev_guest_init2
        // (need_init: only on an SEV VM type), then __sev_guest_init.
        uapi::Init init{};
        unsigned long type;
        if (id == uapi::kSevInit2) {
            if (!need_init_) return refuse(name, EINVAL);
            if (!data) return refuse(name, EFAULT);
            std::memcpy(&init, data, sizeof init);
            type = vm_type_;
        } else {
            if (id == uapi::kSevEsInit && !sev_es_enabled) return refuse(name, ENOTTY);
            if (vm_type_ != uapi::kVmTypeDefault) return refuse(name, EINVAL);
            type = id == uapi::kSevInit ? uapi::kVmTypeSev : uapi::kVmTypeSevEs;
        }
        const bool es = type != uapi::kVmTypeSev;
        const std::uint64_t valid = es ? vmsa_features.value_or(0) : 0;
        if (created_vcpus_ || init.flags || (init.vmsa_features & ~valid)) return refuse(name, EINVAL);
        if (init.ghcb_version > 2 || (!es && init.ghcb_version)) return refuse(name, EINVAL);
        if (sev_active_) return refuse(name, EINVAL);
        sev_active_ = true;
        es_active_ = es;
        need_init_ = false;
        features_ = init.vmsa_features;
        if (type == uapi::kVmTypeSnp) {
            features_ |= kSevFeatSnpActive;
            snp_active_ = true;
        }
        seen_.vmsa_features = features_;
        return 0;
    }
    case uapi::kLaunchStart: {
        // sev_launch_start: LAUNCH_START, then ACTIVATE of the VM's ASID. An
        // SEV-ES ASID takes only a policy with ES (bit 2), an SEV ASID only one
        // without: the firmware refuses the other (POLICY_FAILURE).
        if (!sev_active_) return refuse(name, ENOTTY);
        auto* a = static_cast<uapi::LaunchStart*>(data);
        if ((a->dh_uaddr && a->dh_len > kFwBlobMax) || (a->session_uaddr && a->session_len > kFwBlobMax))
            return refuse(name, EINVAL);  // psp_copy_user_blob
        if (((a->policy >> 2) & 1) != (es_active_ ? 1u : 0u)) return firmware(SEV_RET_POLICY_FAILURE);
        if (guest_ != Guest::none) return firmware(SEV_RET_INVALID_GUEST_STATE);
        handle_ = 1;
        a->handle = handle_;
        guest_ = Guest::lupdate;
        seen_.policy = a->policy;
        if (a->session_uaddr && a->session_len) {
            const auto* blob = reinterpret_cast<const std::uint8_t*>(a->session_uaddr);
            seen_.launch_start_session.assign(blob, blob + a->session_len);
        }
        return 0;
    }
    case uapi::kLaunchUpdateData: {
        // sev_launch_update_data: sev_pin_memory refuses an empty or wrapping
        // range; the firmware needs a started guest (handle 0 is no guest).
        if (!sev_active_) return refuse(name, ENOTTY);
        const auto* a = static_cast<const uapi::LaunchUpdateData*>(data);
        if (a->len == 0 || a->uaddr + a->len < a->uaddr) return refuse(name, EINVAL);
        if (handle_ == 0) return firmware(SEV_RET_INVALID_GUEST);
        if (guest_ != Guest::lupdate) return firmware(SEV_RET_INVALID_GUEST_STATE);
        auto* src = reinterpret_cast<const std::uint8_t*>(a->uaddr);
        call.data.assign(src, src + a->len);
        launch_data_.insert(launch_data_.end(), src, src + a->len);
        return 0;
    }
    case uapi::kLaunchUpdateVmsa: {
        // sev_launch_update_vmsa: every vCPU, each checked by sev_es_sync_vmsa
        // (DR7 must hold only its fixed bit 10).
        if (!es_active_) return refuse(name, ENOTTY);
        if (handle_ == 0) return firmware(SEV_RET_INVALID_GUEST);
        if (guest_ != Guest::lupdate) return firmware(SEV_RET_INVALID_GUEST_STATE);
        for (auto& [fd, v] : vcpus_) {
            if (v.dr7 & ~0x400ull) return refuse(name, EINVAL);
            v.protected_state = true;
            ++seen_.vmsas;
        }
        return 0;
    }
    case uapi::kLaunchMeasure: {
        // sev_launch_measure: len 0 asks the firmware for the length, which
        // answers INVALID_LEN with it filled in; the kernel copies len back
        // and returns the -EIO. A buffer: at most SEV_FW_BLOB_MAX_SIZE, at
        // least what the firmware needs (else INVALID_LEN, nothing copied).
        if (!sev_active_) return refuse(name, ENOTTY);
        auto* a = static_cast<uapi::LaunchMeasure*>(data);
        if (a->len && a->uaddr && a->len > kFwBlobMax) return refuse(name, EINVAL);
        if (handle_ == 0) return firmware(SEV_RET_INVALID_GUEST);
        if (guest_ != Guest::lupdate) return firmware(SEV_RET_INVALID_GUEST_STATE);
        const std::uint32_t given = a->uaddr ? a->len : 0;
        if (given < kMeasureSize) {
            if (a->len == 0) a->len = kMeasureSize;
            return firmware(SEV_RET_INVALID_LEN);
        }
        auto* blob = reinterpret_cast<std::uint8_t*>(a->uaddr);
        std::memset(blob, 0xab, kMeasureSize);
        if (transport_keys && !es_active_) {
            // The SEV API's LAUNCH_MEASURE: MEASURE = HMAC-SHA256(TIK, 0x04 ||
            // API_MAJOR || API_MINOR || BUILD || POLICY || GCTX.LD || MNONCE),
            // GCTX.LD being SHA-256 over every LAUNCH_UPDATE_DATA in order (the
            // model keeps no VMSA bytes, so SEV-ES keeps the 0xab blob). The
            // version is what the model's PLATFORM_STATUS reports.
            std::uint8_t digest[SHA256_DIGEST_LENGTH];
            SHA256(launch_data_.data(), launch_data_.size(), digest);
            std::vector<std::uint8_t> message{0x04, 1, 55, 21};
            for (int i = 0; i < 4; ++i) message.push_back(static_cast<std::uint8_t>(seen_.policy >> (8 * i)));
            message.insert(message.end(), digest, digest + sizeof digest);
            std::memset(blob + 32, 0x5a, 16);  // the model firmware's MNONCE
            message.insert(message.end(), blob + 32, blob + 48);
            unsigned len = 0;
            HMAC(EVP_sha256(), transport_keys->tik.data(), 16, message.data(), message.size(), blob, &len);
        }
        std::memcpy(measure_.data(), blob, 32);
        a->len = kMeasureSize;
        guest_ = Guest::lsecret;
        return 0;
    }
    case uapi::kLaunchSecret: {
        if (!sev_active_) return refuse(name, ENOTTY);
        if (int rc = launch_secret(data, name)) return rc;
        // The firmware's LAUNCH_UPDATE_SECRET: a started guest, measured and not
        // yet finished (the SEV API's LSECRET state).
        if (handle_ == 0) return firmware(SEV_RET_INVALID_GUEST);
        if (guest_ != Guest::lsecret) return firmware(SEV_RET_INVALID_GUEST_STATE);
        if (!transport_keys) return 0;
        // The packet header {FLAGS, IV[16], MAC[32]}; MAC = HMAC-SHA256(TIK,
        // 0x01 || FLAGS || IV || GUEST_LENGTH || TRANS_LENGTH || DATA ||
        // MEASURE) over the ciphertext, then AES-128-CTR(TEK, IV) into the guest.
        const auto* a = static_cast<const uapi::LaunchSecret*>(data);
        const auto* hdr = reinterpret_cast<const std::uint8_t*>(a->hdr_uaddr);
        const auto* trans = reinterpret_cast<const std::uint8_t*>(a->trans_uaddr);
        if (a->hdr_len != 52 || a->trans_len != a->guest_len) return firmware(SEV_RET_INVALID_LEN);
        std::vector<std::uint8_t> message{0x01};
        message.insert(message.end(), hdr, hdr + 20);  // FLAGS, IV
        for (std::uint32_t v : {a->guest_len, a->trans_len})
            for (int i = 0; i < 4; ++i) message.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        message.insert(message.end(), trans, trans + a->trans_len);
        message.insert(message.end(), measure_.begin(), measure_.end());
        std::uint8_t mac[32];
        unsigned mac_len = 0;
        HMAC(EVP_sha256(), transport_keys->tik.data(), 16, message.data(), message.size(), mac, &mac_len);
        if (std::memcmp(mac, hdr + 20, 32) != 0) return firmware(SEV_RET_BAD_MEASUREMENT);
        std::vector<std::uint8_t> plain(a->trans_len);
        EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
        int out = 0;
        EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, transport_keys->tek.data(), hdr + 4);
        EVP_EncryptUpdate(ctx, plain.data(), &out, trans, static_cast<int>(a->trans_len));
        EVP_CIPHER_CTX_free(ctx);
        std::memcpy(reinterpret_cast<void*>(a->guest_uaddr), plain.data(), plain.size());
        seen_.secret_plaintext = plain;
        seen_.secret_uaddr = a->guest_uaddr;
        return 0;
    }
    case uapi::kLaunchFinish:
        if (!sev_active_) return refuse(name, ENOTTY);
        if (handle_ == 0) return firmware(SEV_RET_INVALID_GUEST);
        if (guest_ != Guest::lsecret) return firmware(SEV_RET_INVALID_GUEST_STATE);
        guest_ = Guest::running;
        return 0;
    case uapi::kGetAttestationReport: {
        // sev_get_attestation_report: the same length query as LAUNCH_MEASURE.
        if (!sev_active_) return refuse(name, ENOTTY);
        auto* a = static_cast<uapi::AttestationReport*>(data);
        if (a->len && a->uaddr && a->len > kFwBlobMax) return refuse(name, EINVAL);
        if (guest_ != Guest::lsecret && guest_ != Guest::running) return firmware(SEV_RET_INVALID_GUEST_STATE);
        const std::uint32_t given = a->uaddr ? a->len : 0;
        if (given < kReportSize) {
            if (a->len == 0) a->len = kReportSize;
            return firmware(SEV_RET_INVALID_LEN);
        }
        std::memset(reinterpret_cast<void*>(a->uaddr), 0xcd, kReportSize);
        a->len = kReportSize;
        return 0;
    }
    case uapi::kSnpLaunchStart: {
        // snp_launch_start.
        if (!snp_guest()) return refuse(name, ENOTTY);
        const auto* a = static_cast<const uapi::SnpLaunchStart*>(data);
        if (snp_context_ || a->flags) return refuse(name, EINVAL);
        if ((a->policy & ~kSnpPolicyValid) || !(a->policy & kSnpPolicyMbo)) return refuse(name, EINVAL);
        snp_context_ = true;
        guest_ = Guest::lupdate;
        seen_.policy = a->policy;
        return 0;
    }
    case uapi::kSnpLaunchUpdate: return snp_launch_update(data, error, call);
    case uapi::kSnpLaunchFinish: {
        // snp_launch_finish: snp_launch_update_vmsa for every vCPU, then the firmware.
        if (!snp_guest()) return refuse(name, ENOTTY);
        if (!snp_context_) return refuse(name, EINVAL);
        const auto* a = static_cast<const uapi::SnpLaunchFinish*>(data);
        if (a->flags) return refuse(name, EINVAL);
        if (guest_ != Guest::lupdate) return firmware(SEV_RET_INVALID_GUEST_STATE);
        for (auto& [fd, v] : vcpus_) {
            if (v.dr7 & ~0x400ull) return refuse(name, EINVAL);
            v.protected_state = true;
            ++seen_.vmsas;
        }
        // With id_block_en the kernel copies KVM_SEV_SNP_ID_BLOCK_SIZE bytes
        // and then always KVM_SEV_SNP_ID_AUTH_SIZE bytes (psp_copy_user_blob:
        // -EINVAL for a zero address); auth_key_en counts only with an ID
        // block. Without id_block_en neither address is read.
        if (a->id_block_en) {
            if (!a->id_block_uaddr || !a->id_auth_uaddr) return refuse(name, EINVAL);
            const auto* block = reinterpret_cast<const std::uint8_t*>(a->id_block_uaddr);
            const auto* auth = reinterpret_cast<const std::uint8_t*>(a->id_auth_uaddr);
            seen_.id_block_en = true;
            seen_.auth_key_en = a->auth_key_en != 0;
            seen_.id_block.assign(block, block + uapi::kSnpIdBlockSize);
            seen_.id_auth.assign(auth, auth + uapi::kSnpIdAuthSize);
            if (std::uint32_t status = snp_check_id_block(block, auth, a->auth_key_en != 0)) return firmware(status);
        }
        guest_ = Guest::running;
        return 0;
    }
    default: return refuse(name, EINVAL);
    }
}

namespace {

// ECDSA P-384 / SHA-384 over `message` with the public key and signature
// in the SNP ABI's layout (72-byte little-endian fields: a key is CURVE,
// QX, QY; a signature R, S), checked with OpenSSL alone.
bool snp_ecdsa_verifies(const std::uint8_t* key, const std::uint8_t* sig, const std::uint8_t* message, std::size_t size) {
    std::uint32_t curve = 0;
    std::memcpy(&curve, key, 4);
    if (curve != 2) return false;
    std::uint8_t point[97] = {0x04};  // SEC 1 uncompressed: X, Y big-endian, 48 bytes each
    for (int i = 0; i < 48; ++i) {
        point[1 + i] = key[4 + 47 - i];
        point[49 + i] = key[4 + 72 + 47 - i];
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("group", const_cast<char*>("secp384r1"), 0),
        OSSL_PARAM_construct_octet_string("pub", point, sizeof point), OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX* from = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    EVP_PKEY* pkey = nullptr;
    const bool made = from && EVP_PKEY_fromdata_init(from) == 1 &&
                      EVP_PKEY_fromdata(from, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(from);
    if (!made) return false;
    ECDSA_SIG* ecdsa = ECDSA_SIG_new();
    ECDSA_SIG_set0(ecdsa, BN_lebin2bn(sig, 72, nullptr), BN_lebin2bn(sig + 72, 72, nullptr));
    unsigned char* der = nullptr;
    const int der_size = i2d_ECDSA_SIG(ecdsa, &der);
    ECDSA_SIG_free(ecdsa);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = der_size > 0 && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha384(), nullptr, pkey) == 1 &&
                    EVP_DigestVerify(ctx, der, static_cast<std::size_t>(der_size), message, size) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
    return ok;
}

} // namespace

std::uint32_t SevKernelModel::snp_check_id_block(const std::uint8_t* block, const std::uint8_t* auth,
                                                 bool author_key_en) {
    // The model's reading of the SNP firmware ABI's SNP_LAUNCH_FINISH: the
    // ID block is signed by ID_KEY (ID_BLOCK_SIG at 0x40, ID_KEY at 0x240 of
    // the ID auth), and with AUTHOR_KEY_EN the ID key by AUTHOR_KEY
    // (ID_KEY_SIG at 0x680 over the 0x404-byte ID_KEY, AUTHOR_KEY at 0x880);
    // a bad signature is BAD_SIGNATURE; the block's LD (0x00) must be the
    // guest's launch digest (BAD_MEASUREMENT) and its POLICY (0x58) the
    // guest's policy (POLICY_FAILURE). The model answers INVALID_PARAM for an
    // algorithm other than 1 (ECDSA P-384 with SHA-384).
    std::uint32_t id_algo = 0, author_algo = 0;
    std::memcpy(&id_algo, auth, 4);
    std::memcpy(&author_algo, auth + 4, 4);
    if (id_algo != 1 || (author_key_en && author_algo != 1)) return SEV_RET_INVALID_PARAM;
    if (!snp_ecdsa_verifies(auth + 0x240, auth + 0x40, block, 0x60)) return SEV_RET_BAD_SIGNATURE;
    if (author_key_en && !snp_ecdsa_verifies(auth + 0x880, auth + 0x680, auth + 0x240, 0x404))
        return SEV_RET_BAD_SIGNATURE;
    if (launch_digest && std::memcmp(block, launch_digest->data(), 48) != 0) return SEV_RET_BAD_MEASUREMENT;
    std::uint64_t policy = 0;
    std::memcpy(&policy, block + 0x58, 8);
    if (policy != seen_.policy) return SEV_RET_POLICY_FAILURE;
    SHA384(auth + 0x240, 0x404, seen_.id_key_digest.data());
    if (author_key_en) SHA384(auth + 0x880, 0x404, seen_.author_key_digest.data());
    return 0;
}

int SevKernelModel::snp_validate_cpuid(std::uint8_t* page) {
    // The SNP firmware's CPUID check (SNP firmware ABI, "CPUID Reporting"):
    // at most 64 entries, and no entry may offer what the platform cannot
    // give the guest; refused entries are corrected in place.
    std::uint32_t count = 0;
    std::memcpy(&count, page, 4);
    if (count > 64) return SEV_RET_INVALID_PARAM;
    bool corrected = false;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::uint8_t* entry = page + 16 + 48 * i;
        std::uint32_t function = 0, index = 0;
        std::memcpy(&function, entry, 4);
        std::memcpy(&index, entry + 4, 4);
        for (const auto& f : firmware_forbidden)
            if (f.function == function && f.index == index && (reg_of(entry, f.reg) & f.mask)) {
                reg_of(entry, f.reg) &= ~f.mask;
                corrected = true;
            }
    }
    return corrected ? SEV_RET_INVALID_PARAM : 0;
}

int SevKernelModel::snp_launch_update(void* data, std::uint32_t& error, SevCall& call) {
    // arch/x86/kvm/svm/sev.c snp_launch_update -> virt/kvm/guest_memfd.c
    // kvm_gmem_populate -> sev_gmem_post_populate.
    const char* name = "KVM_SEV_SNP_LAUNCH_UPDATE";
    if (!snp_guest() || !snp_context_) return refuse(name, EINVAL);
    auto* a = static_cast<uapi::SnpLaunchUpdate*>(data);
    const bool type_ok = a->type == uapi::kSnpPageNormal || a->type == uapi::kSnpPageZero ||
                         a->type == uapi::kSnpPageUnmeasured || a->type == uapi::kSnpPageSecrets ||
                         a->type == uapi::kSnpPageCpuid;
    if (a->len % kPage || a->flags || !type_ok) return refuse(name, EINVAL);
    const Slot* slot = slot_at(a->gfn_start);
    if (!slot || slot->gmem < 0) return refuse(name + std::string("(not a guest_memfd slot)"), EINVAL);
    const bool zero = a->type == uapi::kSnpPageZero;
    std::int64_t npages = static_cast<std::int64_t>(a->len / kPage);
    // kvm_gmem_populate: the count is negative only if the first page failed;
    // snp_launch_update reports that as -EIO with the firmware status.
    auto failed = [&](const std::string& why, std::uint32_t status) {
        seen_.refused.push_back(fmt::format("{}: {}", name, why));
        error = status;
        return -EIO;
    };
    if (npages <= 0) return failed("no pages", 0);
    if (!zero && a->uaddr % kPage) return failed("source not page-aligned", 0);
    const std::uint64_t slot_end = (slot->gpa + slot->size) / kPage;
    npages = std::min<std::int64_t>(npages, static_cast<std::int64_t>(slot_end - a->gfn_start));
    if (populate_pages_per_call) npages = std::min<std::int64_t>(npages, populate_pages_per_call);
    if (guest_ != Guest::lupdate) return failed("guest not in launch", SEV_RET_INVALID_GUEST_STATE);
    std::int64_t done = 0;
    for (; done < npages; ++done) {
        const std::uint64_t gfn = a->gfn_start + done;
        std::string why;
        std::uint32_t status = 0;
        if (!private_gfns_.count(gfn)) why = fmt::format("gfn {:#x} not private", gfn);  // __kvm_gmem_populate
        else if (seen_.populated.count(gfn)) why = fmt::format("gfn {:#x} already guest-owned", gfn);  // RMP assigned
        if (why.empty() && a->type == uapi::kSnpPageCpuid) {
            auto* src = reinterpret_cast<std::uint8_t*>(a->uaddr + done * kPage);
            std::vector<std::uint8_t> copy(src, src + kPage);
            status = static_cast<std::uint32_t>(snp_validate_cpuid(copy.data()));
            if (status) {
                // sev_gmem_post_populate: the corrected page goes back to the source.
                std::memcpy(src, copy.data(), kPage);
                why = "CPUID page refused";
            }
        }
        if (!why.empty()) {
            if (done == 0) return failed(why, status);
            break;
        }
        if (!zero) {
            auto* src = reinterpret_cast<const std::uint8_t*>(a->uaddr + done * kPage);
            call.data.insert(call.data.end(), src, src + kPage);
        }
        seen_.populated.insert(gfn);
    }
    a->gfn_start += static_cast<std::uint64_t>(done);
    a->len -= static_cast<std::uint64_t>(done) * kPage;
    if (!zero) a->uaddr += static_cast<std::uint64_t>(done) * kPage;
    return 0;
}

// ---- KVM_RUN ----

int SevKernelModel::run(Vcpu& vcpu, int fd) {
    void* map = ::mmap(nullptr, kRunSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) return -errno;
    auto& run = *static_cast<kvm_run*>(map);
    struct Unmap {
        void* p;
        ~Unmap() { ::munmap(p, kRunSize); }
    } unmap{map};
    if (run.immediate_exit) return -EINTR;
    if (vcpu.id != 0) {
        // An AP waits for a start-up the guest never sends.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return -EINTR;
    }
    std::lock_guard lock(mutex_);
    vcpu.ran = true;
    run.exit_reason = KVM_EXIT_UNKNOWN;
    // VMRUN of a guest the firmware has not launched fails (the model's
    // stand-in for the hardware's VMEXIT_INVALID).
    if (!sev_active_ || guest_ != Guest::running) {
        run.exit_reason = KVM_EXIT_FAIL_ENTRY;
        run.fail_entry.hardware_entry_failure_reason = ~0ull;
        seen_.refused.push_back(fmt::format("KVM_RUN: guest {}", state_name()));
        return 0;
    }
    // OVMF's reset vector: no SEV in CPUID 0x8000001f (bit 1) means no C-bit,
    // EFER.LME is refused and the guest triple-faults.
    if (!cpuid_checked_) {
        bool sev_in_cpuid = false;
        for (const auto& e : seen_.cpuid[0])
            if (e.function == 0x8000001f && (e.eax & 2)) sev_in_cpuid = true;
        if (!sev_in_cpuid) {
            run.exit_reason = KVM_EXIT_SHUTDOWN;
            seen_.refused.push_back("KVM_RUN: the guest found no SEV in CPUID 0x8000001f");
            return 0;
        }
        cpuid_checked_ = true;
    }
    if (pending_fault_) {
        // The guest touches the range again: converted, it goes on.
        const auto& f = *pending_fault_;
        bool converted = true;
        for (std::uint64_t g = f.fault_gpa / kPage; g < (f.fault_gpa + f.fault_size) / kPage; ++g)
            if (private_gfns_.count(g) != (f.fault_to_private ? 1u : 0u)) converted = false;
        if (converted) pending_fault_.reset();
        else ++seen_.refaults;
    }
    if (!pending_fault_ && !steps_.empty() && !steps_.front().exit) {
        pending_fault_ = steps_.front();
        steps_.pop_front();
        ++seen_.steps_run;
    }
    if (pending_fault_) {
        // KVM_RUN returns -EFAULT with KVM_EXIT_MEMORY_FAULT (include/uapi/linux/kvm.h,
        // kvm_prepare_memory_fault_exit).
        const auto& f = *pending_fault_;
        run.exit_reason = cvm::exits::kExitMemoryFault;
        // Debian 12's headers lack the memory_fault member: it is three
        // __u64 (flags, gpa, size) at the start of kvm_run's exit union.
        const std::uint64_t record[3] = {f.fault_to_private ? cvm::exits::kMemoryExitFlagPrivate : 0, f.fault_gpa,
                                         f.fault_size};
        std::memcpy(&run.hw, record, sizeof record);
        ++seen_.faults_reported;
        return -EFAULT;
    }
    if (steps_.empty()) {
        run.exit_reason = KVM_EXIT_SHUTDOWN;
        return 0;
    }
    steps_.front().exit(run);
    steps_.pop_front();
    ++seen_.steps_run;
    return 0;
}

// ---- observations ----

SevKernelModel::Observed SevKernelModel::seen() const {
    std::lock_guard lock(mutex_);
    Observed o = seen_;
    o.guest_state = state_name();
    return o;
}

std::vector<SevKernelModel::SevCall> SevKernelModel::sev_calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

std::vector<std::string> SevKernelModel::log() const {
    std::lock_guard lock(mutex_);
    return log_;
}

std::map<std::string, std::vector<std::uint8_t>> SevKernelModel::vcpu_state() const {
    std::lock_guard lock(mutex_);
    return vcpu_state_;
}

std::optional<bool> SevKernelModel::private_attribute(std::uint64_t gpa, std::uint64_t size) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0, total = 0;
    for (std::uint64_t g = gpa / kPage; g < (gpa + size) / kPage; ++g, ++total) n += private_gfns_.count(g);
    if (n == total) return true;
    if (n == 0) return false;
    return std::nullopt;
}

} // namespace cvmtest::sev
