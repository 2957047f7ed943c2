// Plan -> KVM for a realm, over either out-of-tree host ABI.
#pragma once

#include <vector>

#include "cvm/backend.hpp"
#include "cvm/plan.hpp"

namespace cvm::cca {

// The "abi" option: which host ABI the launcher speaks (auto: probe).
std::vector<OptionInfo> launch_option_infos();

RunResult launch_realm(const LaunchPlan& plan, const RunOptions& options);

} // namespace cvm::cca
