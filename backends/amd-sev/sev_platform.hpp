// The host's SEV platform through /dev/sev (SEV_ISSUE_CMD): its status
// (API version and build, which enter the LAUNCH_MEASURE HMAC), its PDH
// certificate chain and its chip id, which the guest owner needs.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/amd-sev/sev_uapi.hpp"
#include "cvm/kvm.hpp"

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

} // namespace cvm::sev
