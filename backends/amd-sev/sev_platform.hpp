// The host's SEV platform through /dev/sev (SEV_ISSUE_CMD): its status
// (API version and build, which enter the LAUNCH_MEASURE HMAC), its PDH
// certificate chain and its chip id, which the guest owner needs.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/amd-sev/sev_uapi.hpp"
#include <optional>

#include "cvm/kvm.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::sev {

struct PlatformStatus {
    std::uint8_t api_major = 0, api_minor = 0, build = 0, state = 0;
    std::uint32_t flags = 0, guest_count = 0;
    bool es_enabled() const { return (flags & uapi::kStatusFlagConfigEs) != 0; }
};

struct PdhExport {
    std::vector<std::uint8_t> pdh;         // the platform's PDH certificate
    std::vector<std::uint8_t> cert_chain;  // PEK, OCA, CEK
};

// Each issues SEV_ISSUE_CMD on `sev_fd` through `seam`; the variable-length
// ones ask for the lengths first (a call with empty buffers), then fetch.
PlatformStatus platform_status(KvmSeam& seam, int sev_fd);
PdhExport pdh_cert_export(KvmSeam& seam, int sev_fd);
std::vector<std::uint8_t> chip_id(KvmSeam& seam, int sev_fd);

// The VMSA features (SEV_FEATURES bits) this KVM lets KVM_SEV_INIT2 ask
// for: KVM_GET_DEVICE_ATTR on /dev/kvm, group KVM_X86_GRP_SEV, attribute
// KVM_X86_SEV_VMSA_FEATURES (arch/x86/kvm/x86.c kvm_x86_dev_get_attr ->
// arch/x86/kvm/svm/sev.c sev_dev_get_attr). Nothing when the kernel does not
// know the attribute (ENXIO: older than 6.10, or no SEV in KVM).
std::optional<std::uint64_t> kvm_vmsa_features(const KvmSystem& kvm);

} // namespace cvm::sev
