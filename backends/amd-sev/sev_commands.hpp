// KVM_MEMORY_ENCRYPT_OP as a type-state API: each launch state is its own
// type, and a command exists only on the state the firmware accepts it in.
// A transition consumes the old state (call it on an rvalue), so
//
//     auto started = SevNew::init(...).start(policy);
//     auto measured = std::move(started).measure();
//     measured.update_data(...);          // does not compile: no such member
//
// SEV/SEV-ES: init -> start -> update_data*/update_vmsa -> measure ->
// inject_secret* -> finish -> attestation_report. SNP: init -> start ->
// update* -> finish. (docs/amd-sev.md "Launch sequences"; the states are
// those of the SEV API's guest state machine.)
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/amd-sev/launch_config.hpp"
#include "backends/amd-sev/sev_uapi.hpp"
#include "cvm/bytes.hpp"
#include "cvm/error.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::sev {

// The VM fd and the /dev/sev fd every command goes through.
class SevChannel {
public:
    SevChannel(const Vm& vm, int sev_fd) : vm_(&vm), sev_fd_(sev_fd) {}
    // Issues command `id` with `data`; throws naming the command and the
    // firmware's status code if KVM refuses.
    void command(uapi::CommandId id, void* data, std::string_view name) const;
    // The same without throwing: KVM_MEMORY_ENCRYPT_OP's result (0 or
    // -errno) and, in `fw_error`, the firmware status KVM copied into
    // kvm_sev_cmd.error (0 when the firmware was not reached).
    int try_command(uapi::CommandId id, void* data, std::uint32_t& fw_error) const;
    // KVM_MEMORY_ENCRYPT_REG_REGION: pin host memory backing encrypted guest RAM.
    void register_region(std::span<std::uint8_t> host) const;
    const Vm& vm() const { return *vm_; }

private:
    const Vm* vm_;
    int sev_fd_;
};

constexpr std::size_t kMeasurementSize = 48;  // MEASURE[32] || MNONCE[16]

class SevFinished {
public:
    explicit SevFinished(SevChannel channel) : channel_(channel) {}
    // KVM_SEV_GET_ATTESTATION_REPORT, asking KVM for the length first.
    std::vector<std::uint8_t> attestation_report(const std::array<std::uint8_t, 16>& mnonce) const;

private:
    SevChannel channel_;
};

class SevMeasured {
public:
    SevMeasured(SevChannel channel, std::array<std::uint8_t, kMeasurementSize> measurement)
        : channel_(channel), measurement_(measurement) {}
    const std::array<std::uint8_t, kMeasurementSize>& measurement() const { return measurement_; }
    // KVM_SEV_LAUNCH_SECRET: the firmware decrypts `ciphertext` with the TEK
    // into `guest` after checking the packet header's MAC.
    void inject_secret(ByteSpan header, std::span<std::uint8_t> guest, ByteSpan ciphertext) const;
    SevFinished finish() &&;

private:
    SevChannel channel_;
    std::array<std::uint8_t, kMeasurementSize> measurement_;
};

class SevStarted {
public:
    SevStarted(SevChannel channel, Mode mode, std::uint32_t handle) : channel_(channel), mode_(mode), handle_(handle) {}
    std::uint32_t handle() const { return handle_; }
    // KVM_SEV_LAUNCH_UPDATE_DATA over the whole range, encrypted in place.
    void update_data(std::span<std::uint8_t> host) const;
    // KVM_SEV_LAUNCH_UPDATE_VMSA: every vCPU's VMSA, in vCPU index order (SEV-ES).
    void update_vmsa() const;
    // KVM_SEV_LAUNCH_MEASURE, asking KVM for the length first.
    SevMeasured measure() &&;

private:
    SevChannel channel_;
    Mode mode_;
    std::uint32_t handle_;
};

class SevNew {
public:
    // KVM_SEV_INIT / KVM_SEV_ES_INIT (legacy, on a default VM) or KVM_SEV_INIT2.
    static SevNew init(SevChannel channel, Mode mode, InitKind init);
    // KVM_SEV_LAUNCH_START without a guest owner session (dh_cert and session
    // empty: the firmware makes the keys) or with one.
    SevStarted start(std::uint32_t policy, ByteSpan dh_cert = {}, ByteSpan session = {}) &&;
    const SevChannel& channel() const { return channel_; }

private:
    SevNew(SevChannel channel, Mode mode) : channel_(channel), mode_(mode) {}
    SevChannel channel_;
    Mode mode_;
};

class SnpFinished {};

// An SNP_LAUNCH_UPDATE the firmware refused: the errno, the firmware
// status and the GPA of the page it stopped at. For a CPUID page refused
// with SEV_RET_INVALID_PARAM the kernel has copied the firmware's
// corrected page back into the source (arch/x86/kvm/svm/sev.c
// sev_gmem_post_populate), so the caller can say what was wrong.
class SnpUpdateError : public Error {
public:
    SnpUpdateError(const std::string& what, int err, std::uint32_t fw_error, std::uint64_t gpa)
        : Error(what, err, "kvm"), fw_error_(fw_error), gpa_(gpa) {}
    std::uint32_t fw_error() const { return fw_error_; }
    std::uint64_t gpa() const { return gpa_; }

private:
    std::uint32_t fw_error_;
    std::uint64_t gpa_;
};

class SnpStarted {
public:
    explicit SnpStarted(SevChannel channel) : channel_(channel) {}
    // KVM_SEV_SNP_LAUNCH_UPDATE over [gpa, gpa + host.size()), repeated while
    // KVM reports partial progress (it advances gfn/uaddr/len) or EAGAIN.
    // Throws SnpUpdateError when the firmware refuses a page.
    void update(std::uint64_t gpa, std::span<std::uint8_t> host, uapi::SnpPageType type) const;
    // KVM_SEV_SNP_LAUNCH_FINISH; KVM measures the VMSAs here. With an ID
    // block (96 bytes) and its ID auth (4096 bytes) it sets id_block_en, and
    // auth_key_en when `author_key_en`; the buffers must outlive the call.
    SnpFinished finish(const std::array<std::uint8_t, 32>& host_data, ByteSpan id_block = {}, ByteSpan id_auth = {},
                       bool author_key_en = false) &&;

private:
    SevChannel channel_;
};

class SnpNew {
public:
    // KVM_SEV_INIT2 on a KVM_X86_SNP_VM; `guest_features` includes bit 0
    // (SNPActive), which KVM adds itself and must not be passed.
    static SnpNew init(SevChannel channel, std::uint64_t guest_features);
    SnpStarted start(std::uint64_t policy) &&;

private:
    explicit SnpNew(SevChannel channel) : channel_(channel) {}
    SevChannel channel_;
};

} // namespace cvm::sev
