// Hosts other than riscv64 plan and measure riscv64 guests but cannot run
// them: ordinary KVM runs guests of the host's own architecture only.
#include "backends/plain/plain_launcher.hpp"
#include "cvm/error.hpp"

namespace cvm::riscv64 {

RunResult launch_plain(const LaunchPlan&, const RunOptions&) {
    throw Error("this plain plan boots a RISC-V kernel and needs a riscv64 host with /dev/kvm "
                "(`cvm-launch measure` and `plan` work on any host)");
}

} // namespace cvm::riscv64
