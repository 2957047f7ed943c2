// The SEV launcher: plan -> KVM_MEMORY_ENCRYPT_OP sequence, then run.
#pragma once

#include "cvm/backend.hpp"

namespace cvm::sev {

RunResult launch_sev(const LaunchPlan& plan, const RunOptions& options);

} // namespace cvm::sev
