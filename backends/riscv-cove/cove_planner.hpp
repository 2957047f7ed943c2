// Layout rules of the riscv-cove backend: spec -> plan, in kvmtool's order.
#pragma once

#include <map>
#include <string>

#include "cvm/plan.hpp"
#include "cvm/spec.hpp"

namespace cvm::cove {

// `options` are the backend's resolved options (defaults filled in).
LaunchPlan build_cove_plan(const VmSpec& spec, const std::map<std::string, std::string>& options);

} // namespace cvm::cove
