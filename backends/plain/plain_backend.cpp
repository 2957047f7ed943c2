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
#include "backends/plain/plain_config.hpp"
#include "backends/plain/plain_launcher.hpp"
#include "backends/plain/plain_planner.hpp"
#include "backends/plain/riscv64_planner.hpp"
#include "cvm/error.hpp"
#include "libcvm/plan/software_measurement.hpp"
#include "libcvm/riscv64/machine.hpp"

namespace cvm {
namespace {

// The configuration of a plain plan, whose first operation creates the VM.
const VmConfig& plan_config(const LaunchPlan& plan) {
    const auto& ops = plan.operations();
    const auto* create = ops.empty() ? nullptr : std::get_if<op::CreateVm>(&ops.front());
    if (!create || !create->config) throw Error("the plain plan does not start with a configured create-vm");
    return *create->config;
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
        if (spec.image(ImageRole::firmware)) return x86::build_plain_firmware_plan(spec);
        return x86::build_plain_plan(spec);
    }
    Measurement predict(const LaunchPlan& plan) const override { return software_measurement(plan); }
    std::vector<PlanEvent> events(const LaunchPlan& plan) const override { return software_events(plan); }
    RunResult launch(const LaunchPlan& plan, const RunOptions& options) const override {
        if (plan.technology() != "plain")
            throw Error(fmt::format("the plain launcher cannot run a '{}' plan", plan.technology()));
        refuse_owner_round_trip(options, name());
        const VmConfig& config = plan_config(plan);
        if (dynamic_cast<const plain::Arm64Config*>(&config)) return arm64::launch_plain(plan, options);
        if (dynamic_cast<const plain::X86Config*>(&config)) return x86::launch_plain(plan, options);
        if (dynamic_cast<const plain::Riscv64Config*>(&config)) return riscv64::launch_plain(plan, options);
        throw Error("the plain plan carries another backend's configuration");
    }
    std::shared_ptr<const VmConfig> decode_config(std::span<const ConfigField> fields) const override {
        return plain::decode_config(fields);
    }
};

} // namespace

const Backend& plain_backend() {
    static const PlainBackend backend;
    return backend;
}

} // namespace cvm
