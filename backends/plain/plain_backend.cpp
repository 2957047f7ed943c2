// The plain backend: the launch plan on ordinary KVM, without
// confidentiality. It boots real guests on any x86_64 host with /dev/kvm, so
// the plan-to-KVM path is tested end to end, and it predicts the software
// measurement of its plans.
#include "backends/plain/plain_backend.hpp"

#include "backends/plain/plain_launcher.hpp"
#include "backends/plain/plain_planner.hpp"
#include "libcvm/plan/software_measurement.hpp"

namespace cvm {
namespace {

class PlainBackend final : public Backend {
public:
    std::string_view name() const override { return "plain"; }
    std::string_view summary() const override {
        return "ordinary KVM, x86_64 Linux boot protocol; software measurement (SHA-256 chain over the plan)";
    }
    LaunchPlan build_plan(const VmSpec& spec) const override {
        resolve_options(*this, spec);  // the plain backend has none: any is an error
        return x86::build_plain_plan(spec);
    }
    Measurement predict(const LaunchPlan& plan) const override { return software_measurement(plan); }
    std::vector<PlanEvent> events(const LaunchPlan& plan) const override { return software_events(plan); }
    RunResult launch(const LaunchPlan& plan, const RunOptions& options) const override {
        return x86::launch_plain(plan, options);
    }
};

} // namespace

const Backend& plain_backend() {
    static const PlainBackend backend;
    return backend;
}

} // namespace cvm
