#include "fake_sev.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "backends/amd-sev/sev_uapi.hpp"
#include "seam_recorder.hpp"

namespace cvmtest {
namespace uapi = cvm::sev::uapi;

namespace {

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

std::string kvm_name(unsigned long request) {
    if (request == uapi::kMemoryEncryptRegRegion) return "KVM_MEMORY_ENCRYPT_REG_REGION";
    if (request == uapi::kCreateGuestMemfd) return "KVM_CREATE_GUEST_MEMFD";
    if (request == uapi::kSetUserMemoryRegion2) return "KVM_SET_USER_MEMORY_REGION2";
    if (request == uapi::kSetMemoryAttributes) return "KVM_SET_MEMORY_ATTRIBUTES";
    if (request == KVM_ENABLE_CAP) return "KVM_ENABLE_CAP";
    if (request == KVM_GET_FPU) return "KVM_GET_FPU";
    if (request == KVM_SET_FPU) return "KVM_SET_FPU";
    if (request == KVM_SET_XCRS) return "KVM_SET_XCRS";
    if (request == KVM_SET_DEBUGREGS) return "KVM_SET_DEBUGREGS";
    if (_IOC_TYPE(request) == KVMIO && _IOC_NR(request) == 0x89) return "KVM_SET_MSRS";
    return request_name(request);
}

} // namespace

std::string FakeSev::role(int fd) const {
    auto it = roles_.find(fd);
    return it == roles_.end() ? fmt::format("fd{}", fd) : it->second;
}

int FakeSev::open(const char* path, int flags) {
    int fd = kvm.open(path, flags);
    std::lock_guard lock(mutex_);
    log_.push_back(fmt::format("open {}", path));
    if (fd >= 0) roles_[fd] = std::string(path) == "/dev/sev" ? "sev" : "kvm";
    return fd;
}

int FakeSev::mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) {
    {
        std::lock_guard lock(mutex_);
        log_.push_back("mmap " + role(fd));
    }
    return kvm.mmap(out, length, prot, flags, fd, offset);
}

int FakeSev::sev_command(void* arg) {
    auto* cmd = static_cast<uapi::Command*>(arg);
    SevCall call{cmd->id, {}, {}};
    void* data = reinterpret_cast<void*>(cmd->data);
    if (std::size_t size = command_size(cmd->id); size && data) {
        auto* bytes = static_cast<std::uint8_t*>(data);
        call.args.assign(bytes, bytes + size);
    }
    int rc = 0;
    switch (cmd->id) {
    case uapi::kLaunchStart: static_cast<uapi::LaunchStart*>(data)->handle = 7; break;
    case uapi::kLaunchUpdateData: {
        auto* a = static_cast<uapi::LaunchUpdateData*>(data);
        auto* src = reinterpret_cast<const std::uint8_t*>(a->uaddr);
        call.data.assign(src, src + a->len);
        break;
    }
    case uapi::kLaunchMeasure: {
        auto* a = static_cast<uapi::LaunchMeasure*>(data);
        if (a->len == 0) { a->len = 48; rc = -EINVAL; }
        else std::memset(reinterpret_cast<void*>(a->uaddr), 0xab, a->len);
        break;
    }
    case uapi::kGetAttestationReport: {
        auto* a = static_cast<uapi::AttestationReport*>(data);
        if (a->len == 0) { a->len = 64; rc = -EINVAL; }
        else std::memset(reinterpret_cast<void*>(a->uaddr), 0xcd, a->len);
        break;
    }
    case uapi::kSnpLaunchUpdate: {
        // Partial progress, as KVM reports it: one page at a time.
        auto* a = static_cast<uapi::SnpLaunchUpdate*>(data);
        auto* src = reinterpret_cast<const std::uint8_t*>(a->uaddr);
        call.data.assign(src, src + 4096);
        a->gfn_start += 1;
        a->uaddr += 4096;
        a->len -= 4096;
        break;
    }
    default: break;
    }
    std::lock_guard lock(mutex_);
    sev_calls_.push_back(std::move(call));
    log_.push_back(fmt::format("vm {}", command_name(cmd->id)));
    return rc;
}

int FakeSev::ioctl(int fd, unsigned long request, void* arg) {
    if (request == uapi::kMemoryEncryptOp) return sev_command(arg);
    if (request == uapi::kSevIssueCmd) {
        auto* cmd = static_cast<uapi::IssueCommand*>(arg);
        int rc = 0;
        if (cmd->cmd == uapi::kPlatformStatus) {
            auto* s = reinterpret_cast<uapi::PlatformStatus*>(cmd->data);
            *s = uapi::PlatformStatus{1, 55, 2, uapi::kStatusFlagConfigEs, 21, 0};
        } else if (cmd->cmd == uapi::kPdhCertExport) {
            // Empty buffers: the firmware reports the lengths with INVALID_LEN.
            auto* e = reinterpret_cast<uapi::PdhCertExport*>(cmd->data);
            if (e->pdh_cert_address == 0) { e->pdh_cert_len = 2084; e->cert_chain_len = 3 * 2084; cmd->error = SEV_RET_INVALID_LEN; rc = -EIO; }
            else std::memset(reinterpret_cast<void*>(e->pdh_cert_address), 0x11, e->pdh_cert_len);
        } else if (cmd->cmd == uapi::kGetId2) {
            auto* g = reinterpret_cast<uapi::GetId2*>(cmd->data);
            if (g->address == 0) { g->length = 64; cmd->error = SEV_RET_INVALID_LEN; rc = -EIO; }
            else std::memset(reinterpret_cast<void*>(g->address), 0x22, g->length);
        }
        std::lock_guard lock(mutex_);
        log_.push_back(fmt::format("{} SEV_ISSUE_CMD {}", role(fd), std::uint32_t{cmd->cmd}));
        return rc;
    }
    std::string name = kvm_name(request);
    int rc;
    if (request == uapi::kCreateGuestMemfd) {
        rc = memfd_create("fake-guest-memfd", MFD_CLOEXEC);
        if (rc < 0) rc = -errno;
    } else if (name == "KVM_SET_MSRS") {
        rc = static_cast<int>(*static_cast<std::uint32_t*>(arg));
    } else {
        rc = kvm.ioctl(fd, request, arg);
    }
    std::lock_guard lock(mutex_);
    std::string who = role(fd);
    if (name == "KVM_CREATE_VM" && rc >= 0) roles_[rc] = "vm";
    if (name == "KVM_CREATE_VCPU" && rc >= 0) roles_[rc] = fmt::format("vcpu{}", reinterpret_cast<std::uintptr_t>(arg));
    if (name == "KVM_CREATE_VM") name += fmt::format("({})", reinterpret_cast<std::uintptr_t>(arg));
    if (name != "KVM_RUN" && name != "KVM_IRQ_LINE") log_.push_back(who + " " + name);
    if (who.starts_with("vcpu") && arg && _IOC_SIZE(request) && name.starts_with("KVM_SET_")) {
        auto* bytes = static_cast<const std::uint8_t*>(arg);
        vcpu_state_[who + " " + name].assign(bytes, bytes + _IOC_SIZE(request));
    }
    return rc;
}

std::vector<std::string> FakeSev::log() const {
    std::lock_guard lock(mutex_);
    return log_;
}

std::vector<FakeSev::SevCall> FakeSev::sev_calls() const {
    std::lock_guard lock(mutex_);
    return sev_calls_;
}

std::map<std::string, std::vector<std::uint8_t>> FakeSev::vcpu_state() const {
    std::lock_guard lock(mutex_);
    return vcpu_state_;
}

} // namespace cvmtest
