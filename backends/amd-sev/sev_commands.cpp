#include "backends/amd-sev/sev_commands.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::sev {
namespace {
constexpr unsigned kMaxRetries = 1000;
}

void SevChannel::command(uapi::CommandId id, void* data, std::string_view name) const {
    uapi::Command cmd{};
    cmd.id = id;
    cmd.data = reinterpret_cast<std::uint64_t>(data);
    cmd.sev_fd = static_cast<std::uint32_t>(sev_fd_);
    int rc = vm_->seam().ioctl(vm_->fd(), uapi::kMemoryEncryptOp, &cmd);
    if (rc < 0)
        throw Error(cmd.error ? fmt::format("{} failed (SEV firmware status {:#x})", name, cmd.error)
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
    uapi::LaunchMeasure query{};  // len 0: KVM answers with the length it needs (EINVAL + len)
    try {
        channel_.command(uapi::kLaunchMeasure, &query, "KVM_SEV_LAUNCH_MEASURE (length)");
    } catch (const Error& e) {
        if (e.err() != EINVAL || query.len == 0) throw;
    }
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
    try {
        channel_.command(uapi::kGetAttestationReport, &query, "KVM_SEV_GET_ATTESTATION_REPORT (length)");
    } catch (const Error& e) {
        if (e.err() != EINVAL || query.len == 0) throw;
    }
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
        std::uint64_t before = args.len;
        try {
            channel_.command(uapi::kSnpLaunchUpdate, &args, "KVM_SEV_SNP_LAUNCH_UPDATE");
        } catch (const Error& e) {
            // KVM asks to retry after advancing past what it did; a kernel
            // that keeps asking forever is a failure, not a hang.
            if (e.err() == EAGAIN && ++retries < kMaxRetries) continue;
            throw;
        }
        if (args.len >= before)
            throw Error(fmt::format("KVM_SEV_SNP_LAUNCH_UPDATE at {:#x} made no progress", args.gfn_start << 12), 0, "kvm");
    }
}

SnpFinished SnpStarted::finish(const std::array<std::uint8_t, 32>& host_data) && {
    uapi::SnpLaunchFinish args{};
    std::memcpy(args.host_data, host_data.data(), host_data.size());
    channel_.command(uapi::kSnpLaunchFinish, &args, "KVM_SEV_SNP_LAUNCH_FINISH");
    return SnpFinished{};
}

} // namespace cvm::sev
