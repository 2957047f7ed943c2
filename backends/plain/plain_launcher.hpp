// Plan -> ordinary KVM: the plain backend's launchers, one per guest
// architecture. Each runs only on a host of its own architecture; elsewhere
// it throws an error saying so.
#pragma once

#include "cvm/backend.hpp"

namespace cvm::x86 {

RunResult launch_plain(const LaunchPlan& plan, const RunOptions& options);

} // namespace cvm::x86

namespace cvm::arm64 {

RunResult launch_plain(const LaunchPlan& plan, const RunOptions& options);

} // namespace cvm::arm64

namespace cvm::riscv64 {

RunResult launch_plain(const LaunchPlan& plan, const RunOptions& options);

} // namespace cvm::riscv64
