// SEV guests are x86_64 guests on AMD hosts: elsewhere the backends plan
// and predict, and refuse to launch.
#include "backends/amd-sev/sev_launcher.hpp"

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::sev {

RunResult launch_sev(const LaunchPlan& plan, const RunOptions&) {
    throw Error(fmt::format("{} guests launch only on x86_64 hosts", plan.technology()));
}

} // namespace cvm::sev
