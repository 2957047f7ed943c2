// The plain backend: the launch plan on ordinary KVM, without
// confidentiality. It boots real guests on x86_64, arm64 and riscv64 hosts
// with /dev/kvm, so the plan-to-KVM path is tested end to end, and it
// predicts the software measurement of its plans. The kernel's format
// chooses the guest architecture: an arm64 Image gets libcvm's arm64
// machine (the placement of an arm-cca realm of the libcvm layout), a
// RISC-V Image libcvm's riscv64 machine (that of a riscv-cove TVM),
// anything else is read as an x86 bzImage.
#include "backends/plain/plain_backend.hpp"

#include <fmt/format.h>

#include "backends/plain/arm64_planner.hpp"
#include "backends/plain/plain_launcher.hpp"
#include "backends/plain/plain_planner.hpp"
#include "backends/plain/riscv64_planner.hpp"
#include "cvm/error.hpp"
#include "libcvm/plan/software_measurement.hpp"
#include "libcvm/riscv64/machine.hpp"

namespace cvm {
namespace {

// The guest architecture a plain plan was made for (its create-vm "arch").
std::string plan_arch(const LaunchPlan& plan) {
    for (const auto& operation : plan.operations())
        if (const auto* create = std::get_if<op::CreateVm>(&operation))
            for (const auto& [key, value] : create->params)
                if (key == "arch") return value;
    return "x86_64";
}

class PlainBackend final : public Backend {
public:
    std::string_view name() const override { return "plain"; }
    std::string_view summary() const override {
        return "ordinary KVM: x86_64 bzImage, arm64 Image (libcvm's arm64 machine) or RISC-V Image (libcvm's riscv64 "
               "machine); software measurement (SHA-256 chain over the plan)";
    }
    std::vector<OptionInfo> options() const override { return riscv64::plain_options(); }
    LaunchPlan build_plan(const VmSpec& spec) const override {
        auto options = resolve_options(*this, spec);
        const ImageSpec* kernel = spec.image(ImageRole::kernel);
        if (kernel && riscv64::is_riscv_image(kernel->payload.bytes()))
            return riscv64::build_plain_plan(spec, options);
        // Every option describes a riscv64 host; another guest would ignore it.
        if (!spec.options.empty())
            throw Error(fmt::format("option '{}' of 'plain' applies to riscv64 guests (a RISC-V Image kernel) only",
                                    spec.options.begin()->first), 0, "option " + spec.options.begin()->first);
        if (kernel && arm64::is_arm64_image(kernel->payload.bytes())) return arm64::build_plain_plan(spec);
        return x86::build_plain_plan(spec);
    }
    Measurement predict(const LaunchPlan& plan) const override { return software_measurement(plan); }
    std::vector<PlanEvent> events(const LaunchPlan& plan) const override { return software_events(plan); }
    RunResult launch(const LaunchPlan& plan, const RunOptions& options) const override {
        if (plan.technology() != "plain")
            throw Error(fmt::format("the plain launcher cannot run a '{}' plan", plan.technology()));
        const std::string arch = plan_arch(plan);
        if (arch == "arm64") return arm64::launch_plain(plan, options);
        if (arch == "x86_64") return x86::launch_plain(plan, options);
        if (arch == "riscv64") return riscv64::launch_plain(plan, options);
        throw Error(fmt::format("the plain plan is for architecture '{}', which no plain launcher runs", arch));
    }
};

} // namespace

const Backend& plain_backend() {
    static const PlainBackend backend;
    return backend;
}

} // namespace cvm
