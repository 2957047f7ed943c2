// The SEV launcher: plan -> the KVM call sequence of docs/amd-sev.md
// ("Recommended libcvm order"), then run.
//
//   SEV/SEV-ES: /dev/sev PLATFORM_STATUS, KVM_CREATE_VM (default type for the
//   legacy init, SEV/SEV-ES type for INIT2), INIT or ES_INIT or INIT2, memory
//   slots pinned with REG_REGION, LAUNCH_START, LAUNCH_UPDATE_DATA per loaded
//   region, vCPUs with their register state, [LAUNCH_UPDATE_VMSA],
//   LAUNCH_MEASURE (length, then data), LAUNCH_FINISH.
//   SNP: KVM_CREATE_VM(SNP), INIT2, guest_memfd-backed slots, the
//   MAP_GPA_RANGE hypercall exit, SNP_LAUNCH_START, per region
//   SET_MEMORY_ATTRIBUTES(private) and SNP_LAUNCH_UPDATE, vCPUs,
//   SNP_LAUNCH_FINISH.
#pragma once

#include "cvm/backend.hpp"

namespace cvm::sev {

// The SEV platform device; tests pass a seam that plays it.
inline constexpr const char* kSevDevice = "/dev/sev";

RunResult launch_sev(const LaunchPlan& plan, const RunOptions& options);

} // namespace cvm::sev
