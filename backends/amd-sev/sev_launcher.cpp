#include "backends/amd-sev/sev_launcher.hpp"

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::sev {

RunResult launch_sev(const LaunchPlan& plan, const RunOptions&) {
    throw Error(fmt::format("launching {} guests is not implemented yet", plan.technology()));
}

} // namespace cvm::sev
