#include "backends/arm-rme/realm_launcher.hpp"

#include "cvm/error.hpp"

namespace cvm::cca {

std::vector<OptionInfo> launch_option_infos() { return {}; }

RunResult launch_realm(const LaunchPlan&, const RunOptions&) {
    throw Error("arm-cca: launching realms is not implemented yet");
}

} // namespace cvm::cca
