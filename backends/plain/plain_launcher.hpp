// Plan -> ordinary KVM on an x86_64 host: the plain backend's launcher.
#pragma once

#include "cvm/backend.hpp"

namespace cvm::x86 {

RunResult launch_plain(const LaunchPlan& plan, const RunOptions& options);

} // namespace cvm::x86
