// Layout rules of the SEV backends: spec -> plan.
//
// The firmware (an OVMF build) ends at 4 GiB and is measured; with a kernel,
// the kernel-hashes table goes where the firmware's table entry says; on SNP
// the firmware's metadata sections follow as typed pages; on SEV-ES and SNP
// every vCPU gets the reset state of the chosen VMM model, which becomes its
// VMSA. The kernel, initrd and command line themselves reach the firmware
// outside the measurement (QEMU's fw_cfg); only their hashes are measured.
#pragma once

#include <map>
#include <string>

#include "backends/amd-sev/launch_config.hpp"
#include "cvm/plan.hpp"
#include "cvm/spec.hpp"

namespace cvm::sev {

// `options` are the backend's resolved options (defaults filled in).
LaunchPlan build_sev_plan(const VmSpec& spec, Mode mode, const std::map<std::string, std::string>& options);

} // namespace cvm::sev
