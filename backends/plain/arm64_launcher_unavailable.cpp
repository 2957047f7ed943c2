// Hosts other than arm64 plan and measure arm64 guests but cannot run them:
// ordinary KVM runs guests of the host's own architecture only.
#include "backends/plain/plain_launcher.hpp"
#include "cvm/error.hpp"

namespace cvm::arm64 {

RunResult launch_plain(const LaunchPlan&, const RunOptions&) {
    throw Error("this plain plan boots an arm64 kernel and needs an arm64 host with /dev/kvm "
                "(`cvm-launch measure` and `plan` work on any host)");
}

} // namespace cvm::arm64
