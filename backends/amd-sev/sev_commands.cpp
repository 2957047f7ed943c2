#include "backends/amd-sev/sev_commands.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::sev {
namespace {
constexpr unsigned kMaxRetries = 1000;

// The length query of LAUNCH_MEASURE and GET_ATTESTATION_REPORT: len 0 asks
// the firmware for the size. The firmware answers INVALID_LEN with the size
// filled in, which drivers/crypto/ccp/sev-dev.c __sev_do_cmd_locked turns
// into -EIO (any non-zero firmware status is -EIO), and
// arch/x86/kvm/svm/sev.c sev_launch_measure / sev_get_attestation_report
// copy `len` back and return that -EIO. So a successful query is -EIO with
// SEV_RET_INVALID_LEN (or 0, should a firmware accept it) and a non-zero
// len; like QEMU's sev_launch_get_measure, the length is what decides.
void require_length(int rc, std::uint32_t fw_error, std::uint32_t len, std::string_view name) {
    const bool answered = rc == 0 || (rc == -EIO && fw_error == SEV_RET_INVALID_LEN);
    if (answered && len != 0) return;
    throw Error(fmt::format("{} length query failed (SEV firmware status {:#x}, length {})", name, fw_error, len),
                rc < 0 ? -rc : 0, "kvm");
}
}

int SevChannel::try_command(uapi::CommandId id, void* data, std::uint32_t& fw_error) const {
    uapi::Command cmd{};
    cmd.id = id;
    cmd.data = reinterpret_cast<std::uint64_t>(data);
    cmd.sev_fd = static_cast<std::uint32_t>(sev_fd_);
    int rc = vm_->seam().ioctl(vm_->fd(), uapi::kMemoryEncryptOp, &cmd);
    fw_error = cmd.error;
    return rc;
}

void SevChannel::command(uapi::CommandId id, void* data, std::string_view name) const {
    std::uint32_t fw_error = 0;
    int rc = try_command(id, data, fw_error);
    if (rc < 0)
        throw Error(fw_error ? fmt::format("{} failed (SEV firmware status {:#x})", name, fw_error)
                             : fmt::format("{} failed", name),
                    -rc, "kvm");
}

void SevChannel::register_region(std::span<std::uint8_t> host) const {
    uapi::EncRegion region{reinterpret_cast<std::uint64_t>(host.data()), host.size()};
    vm_->ioctl(uapi::kMemoryEncryptRegRegion, &region, "KVM_MEMORY_ENCRYPT_REG_REGION");
}

SevNew SevNew::init(SevChannel channel, Mode mode, InitKind init) {
    if (mode == Mode::snp) throw Error("SevNew launches SEV and SEV-ES guests; SNP uses SnpNew");
    if (init == InitKind::legacy) {
        if (mode == Mode::es) channel.command(uapi::kSevEsInit, nullptr, "KVM_SEV_ES_INIT");
        else channel.command(uapi::kSevInit, nullptr, "KVM_SEV_INIT");
    } else {
        uapi::Init args{};  // no VMSA features; GHCB version 0 = KVM's default
        channel.command(uapi::kSevInit2, &args, "KVM_SEV_INIT2");
    }
    return SevNew(channel, mode);
}

SevStarted SevNew::start(std::uint32_t policy, ByteSpan dh_cert, ByteSpan session) && {
    uapi::LaunchStart args{};
    args.policy = policy;
    args.dh_uaddr = dh_cert.empty() ? 0 : reinterpret_cast<std::uint64_t>(dh_cert.data());
    args.dh_len = static_cast<std::uint32_t>(dh_cert.size());
    args.session_uaddr = session.empty() ? 0 : reinterpret_cast<std::uint64_t>(session.data());
    args.session_len = static_cast<std::uint32_t>(session.size());
    channel_.command(uapi::kLaunchStart, &args, "KVM_SEV_LAUNCH_START");
    return SevStarted(channel_, mode_, args.handle);
}

void SevStarted::update_data(std::span<std::uint8_t> host) const {
    if (host.size() > 0xffffffffu) throw Error("LAUNCH_UPDATE_DATA takes at most 4 GiB at once");
    uapi::LaunchUpdateData args{};
    args.uaddr = reinterpret_cast<std::uint64_t>(host.data());
    args.len = static_cast<std::uint32_t>(host.size());
    channel_.command(uapi::kLaunchUpdateData, &args, "KVM_SEV_LAUNCH_UPDATE_DATA");
}

void SevStarted::update_vmsa() const {
    if (mode_ != Mode::es) throw Error("LAUNCH_UPDATE_VMSA exists only for SEV-ES guests");
    channel_.command(uapi::kLaunchUpdateVmsa, nullptr, "KVM_SEV_LAUNCH_UPDATE_VMSA");
}

SevMeasured SevStarted::measure() && {
    uapi::LaunchMeasure query{};  // len 0: the length query
    std::uint32_t fw_error = 0;
    int rc = channel_.try_command(uapi::kLaunchMeasure, &query, fw_error);
    require_length(rc, fw_error, query.len, "KVM_SEV_LAUNCH_MEASURE");
    if (query.len != kMeasurementSize)
        throw Error(fmt::format("KVM_SEV_LAUNCH_MEASURE wants {} bytes, expected {}", query.len, kMeasurementSize), 0, "kvm");
    std::array<std::uint8_t, kMeasurementSize> blob{};
    uapi::LaunchMeasure args{reinterpret_cast<std::uint64_t>(blob.data()), kMeasurementSize, 0};
    channel_.command(uapi::kLaunchMeasure, &args, "KVM_SEV_LAUNCH_MEASURE");
    return SevMeasured(channel_, blob);
}

void SevMeasured::inject_secret(ByteSpan header, std::span<std::uint8_t> guest, ByteSpan ciphertext) const {
    if (guest.size() != ciphertext.size())
        throw Error(fmt::format("LAUNCH_SECRET: {} bytes of ciphertext for {} bytes of guest memory", ciphertext.size(),
                                guest.size()));
    uapi::LaunchSecret args{};
    args.hdr_uaddr = reinterpret_cast<std::uint64_t>(header.data());
    args.hdr_len = static_cast<std::uint32_t>(header.size());
    args.guest_uaddr = reinterpret_cast<std::uint64_t>(guest.data());
    args.guest_len = static_cast<std::uint32_t>(guest.size());
    args.trans_uaddr = reinterpret_cast<std::uint64_t>(ciphertext.data());
    args.trans_len = static_cast<std::uint32_t>(ciphertext.size());
    channel_.command(uapi::kLaunchSecret, &args, "KVM_SEV_LAUNCH_SECRET");
}

SevFinished SevMeasured::finish() && {
    channel_.command(uapi::kLaunchFinish, nullptr, "KVM_SEV_LAUNCH_FINISH");
    return SevFinished(channel_);
}

std::vector<std::uint8_t> SevFinished::attestation_report(const std::array<std::uint8_t, 16>& mnonce) const {
    uapi::AttestationReport query{};
    std::memcpy(query.mnonce, mnonce.data(), mnonce.size());
    std::uint32_t fw_error = 0;
    int rc = channel_.try_command(uapi::kGetAttestationReport, &query, fw_error);
    require_length(rc, fw_error, query.len, "KVM_SEV_GET_ATTESTATION_REPORT");
    if (query.len == 0 || query.len > 1u << 16)
        throw Error(fmt::format("KVM_SEV_GET_ATTESTATION_REPORT wants {} bytes", query.len), 0, "kvm");
    std::vector<std::uint8_t> report(query.len);
    uapi::AttestationReport args = query;
    args.uaddr = reinterpret_cast<std::uint64_t>(report.data());
    channel_.command(uapi::kGetAttestationReport, &args, "KVM_SEV_GET_ATTESTATION_REPORT");
    report.resize(args.len);
    return report;
}

SnpNew SnpNew::init(SevChannel channel, std::uint64_t guest_features) {
    if ((guest_features & 1) == 0) throw Error("SNP guest features must include SNPActive (bit 0)");
    uapi::Init args{};
    args.vmsa_features = guest_features & ~std::uint64_t{1};
    channel.command(uapi::kSevInit2, &args, "KVM_SEV_INIT2");
    return SnpNew(channel);
}

SnpStarted SnpNew::start(std::uint64_t policy) && {
    uapi::SnpLaunchStart args{};
    args.policy = policy;
    channel_.command(uapi::kSnpLaunchStart, &args, "KVM_SEV_SNP_LAUNCH_START");
    return SnpStarted(channel_);
}

void SnpStarted::update(std::uint64_t gpa, std::span<std::uint8_t> host, uapi::SnpPageType type) const {
    if (gpa % 4096 || host.size() % 4096 || host.empty() || reinterpret_cast<std::uintptr_t>(host.data()) % 4096)
        throw Error(fmt::format("SNP_LAUNCH_UPDATE at {:#x}: range and source must be whole 4 KiB pages", gpa));
    uapi::SnpLaunchUpdate args{};
    args.gfn_start = gpa >> 12;
    args.uaddr = reinterpret_cast<std::uint64_t>(host.data());
    args.len = host.size();
    args.type = type;
    unsigned retries = 0;
    while (args.len != 0) {
        const std::uint64_t before = args.len;
        std::uint32_t fw_error = 0;
        int rc = channel_.try_command(uapi::kSnpLaunchUpdate, &args, fw_error);
        // KVM asks to retry after advancing past what it did; a kernel
        // that keeps asking forever is a failure, not a hang.
        if (rc == -EAGAIN && ++retries < kMaxRetries) continue;
        if (rc < 0) {
            // arch/x86/kvm/svm/sev.c snp_launch_update: a failed populate is
            // -EIO with the firmware status in cmd.error, and gfn_start
            // still names the first page of this call (the pages before it
            // were reported as progress by the previous call).
            const std::uint64_t at = args.gfn_start << 12;
            throw SnpUpdateError(
                fw_error ? fmt::format("KVM_SEV_SNP_LAUNCH_UPDATE at {:#x} failed (SEV firmware status {:#x})", at, fw_error)
                         : fmt::format("KVM_SEV_SNP_LAUNCH_UPDATE at {:#x} failed", at),
                -rc, fw_error, at);
        }
        if (args.len >= before)
            throw Error(fmt::format("KVM_SEV_SNP_LAUNCH_UPDATE at {:#x} made no progress", args.gfn_start << 12), 0, "kvm");
    }
}

SnpFinished SnpStarted::finish(const std::array<std::uint8_t, 32>& host_data, ByteSpan id_block, ByteSpan id_auth,
                               bool author_key_en) && {
    uapi::SnpLaunchFinish args{};
    std::memcpy(args.host_data, host_data.data(), host_data.size());
    if (!id_block.empty()) {
        // sev.c snp_launch_finish copies exactly KVM_SEV_SNP_ID_BLOCK_SIZE and
        // KVM_SEV_SNP_ID_AUTH_SIZE bytes from the two addresses: shorter
        // buffers would let the kernel read past them.
        if (id_block.size() != uapi::kSnpIdBlockSize || id_auth.size() != uapi::kSnpIdAuthSize)
            throw Error(fmt::format("SNP_LAUNCH_FINISH takes a {}-byte ID block and a {}-byte ID auth, not {} and {}",
                                    uapi::kSnpIdBlockSize, uapi::kSnpIdAuthSize, id_block.size(), id_auth.size()));
        args.id_block_uaddr = reinterpret_cast<std::uintptr_t>(id_block.data());
        args.id_auth_uaddr = reinterpret_cast<std::uintptr_t>(id_auth.data());
        args.id_block_en = 1;
        args.auth_key_en = author_key_en ? 1 : 0;
    }
    channel_.command(uapi::kSnpLaunchFinish, &args, "KVM_SEV_SNP_LAUNCH_FINISH");
    return SnpFinished{};
}

} // namespace cvm::sev
