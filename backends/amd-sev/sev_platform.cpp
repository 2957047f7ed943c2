#include "backends/amd-sev/sev_platform.hpp"

#include <cerrno>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::sev {
namespace {

// Returns the firmware status; throws on a failure that is not "buffer too
// small" when `length_query` says that one is expected.
std::uint32_t issue(KvmSeam& seam, int fd, std::uint32_t command, void* data, const char* name, bool length_query) {
    uapi::IssueCommand cmd{};
    cmd.cmd = command;
    cmd.data = reinterpret_cast<std::uint64_t>(data);
    int rc = seam.ioctl(fd, uapi::kSevIssueCmd, &cmd);
    const std::uint32_t status = cmd.error;
    if (rc < 0 && !(length_query && status == SEV_RET_INVALID_LEN))
        throw Error(status ? fmt::format("{} failed (SEV firmware status {:#x})", name, status)
                              : fmt::format("{} failed", name),
                    -rc, "/dev/sev");
    return status;
}

constexpr std::uint32_t kMaxBlob = 1u << 16;

void check_length(std::uint32_t length, const char* what) {
    if (length == 0 || length > kMaxBlob)
        throw Error(fmt::format("{}: the firmware asks for {} bytes", what, length), 0, "/dev/sev");
}

} // namespace

PlatformStatus platform_status(KvmSeam& seam, int sev_fd) {
    uapi::PlatformStatus raw{};
    issue(seam, sev_fd, uapi::kPlatformStatus, &raw, "SEV_PLATFORM_STATUS", false);
    PlatformStatus s;
    s.api_major = raw.api_major;
    s.api_minor = raw.api_minor;
    s.build = raw.build;
    s.state = raw.state;
    s.flags = raw.flags;
    s.guest_count = raw.guest_count;
    return s;
}

PdhExport pdh_cert_export(KvmSeam& seam, int sev_fd) {
    uapi::PdhCertExport query{};
    issue(seam, sev_fd, uapi::kPdhCertExport, &query, "SEV_PDH_CERT_EXPORT (lengths)", true);
    check_length(query.pdh_cert_len, "SEV_PDH_CERT_EXPORT PDH");
    check_length(query.cert_chain_len, "SEV_PDH_CERT_EXPORT chain");
    PdhExport out{std::vector<std::uint8_t>(query.pdh_cert_len), std::vector<std::uint8_t>(query.cert_chain_len)};
    uapi::PdhCertExport args{};
    args.pdh_cert_address = reinterpret_cast<std::uint64_t>(out.pdh.data());
    args.pdh_cert_len = query.pdh_cert_len;
    args.cert_chain_address = reinterpret_cast<std::uint64_t>(out.cert_chain.data());
    args.cert_chain_len = query.cert_chain_len;
    issue(seam, sev_fd, uapi::kPdhCertExport, &args, "SEV_PDH_CERT_EXPORT", false);
    return out;
}

std::vector<std::uint8_t> chip_id(KvmSeam& seam, int sev_fd) {
    uapi::GetId2 query{};
    issue(seam, sev_fd, uapi::kGetId2, &query, "SEV_GET_ID2 (length)", true);
    check_length(query.length, "SEV_GET_ID2");
    std::vector<std::uint8_t> id(query.length);
    uapi::GetId2 args{reinterpret_cast<std::uint64_t>(id.data()), query.length};
    issue(seam, sev_fd, uapi::kGetId2, &args, "SEV_GET_ID2", false);
    return id;
}

std::optional<std::uint64_t> kvm_vmsa_features(const KvmSystem& kvm) {
    std::uint64_t value = 0;
    kvm_device_attr attr{};
    attr.group = uapi::kX86GrpSev;
    attr.attr = uapi::kX86SevVmsaFeatures;
    attr.addr = reinterpret_cast<std::uint64_t>(&value);
    int rc = kvm.seam().ioctl(kvm.fd(), KVM_GET_DEVICE_ATTR, &attr);
    if (rc == -ENXIO) return std::nullopt;
    if (rc < 0) throw Error("KVM_GET_DEVICE_ATTR(KVM_X86_GRP_SEV, KVM_X86_SEV_VMSA_FEATURES) failed", -rc, "kvm");
    return value;
}

} // namespace cvm::sev
