// Launcher of the riscv-cove backend: plan -> the CoVE RFC KVM interface.
#pragma once

#include "cvm/backend.hpp"

namespace cvm::cove {

RunResult launch_cove(const LaunchPlan& plan, const RunOptions& options);

} // namespace cvm::cove
