// The arm-cca backend: realms on Arm CCA (RME) through Linux KVM. Layouts
// for libcvm, kvmtool and QEMU; a TF-RMM-exact RIM predictor; a launcher for
// both out-of-tree host ABIs (KVM_CAP_ARM_RME, KVM_CAP_ARM_RMI).
#include "backends/arm-cca/arm_cca_backend.hpp"

#include "backends/arm-cca/cca_log_replay.hpp"
#include "backends/arm-cca/realm_launcher.hpp"
#include "backends/arm-cca/realm_options.hpp"
#include "backends/arm-cca/realm_plan.hpp"
#include "backends/arm-cca/rim.hpp"
#include "backends/arm-cca/rim_predictor.hpp"

namespace cvm {
namespace {

class ArmCcaBackend final : public Backend {
public:
    std::string_view name() const override { return cca::kTechnology; }
    std::string_view summary() const override {
        return "Arm CCA realm (RME); RIM predicted as TF-RMM computes it; layouts libcvm, kvmtool, qemu";
    }
    std::vector<OptionInfo> options() const override { return cca::realm_option_infos(); }
    LaunchPlan build_plan(const VmSpec& spec) const override {
        return cca::build_realm_plan(spec, resolve_options(*this, spec));
    }
    Measurement predict(const LaunchPlan& plan) const override { return cca::predict_rim(plan); }
    std::vector<PlanEvent> events(const LaunchPlan& plan) const override { return cca::rim_events(plan); }
    Prediction predict_with_events(const LaunchPlan& plan) const override {
        return cca::predict_rim_with_events(plan);
    }
    RunResult launch(const LaunchPlan& plan, const RunOptions& options) const override {
        refuse_owner_round_trip(options, name());
        return cca::launch_realm(plan, options);
    }
    // RSI_MEASUREMENT_EXTEND on a REM, in the realm's hash algorithm.
    Digest runtime_extend(const Digest& old_rem, ByteSpan value) const override {
        return cca::rem_extend(old_rem, value);
    }
    std::shared_ptr<const VmConfig> decode_config(std::span<const ConfigField> fields) const override {
        return cca::decode_realm_config(fields);
    }
    const eventlog::LogReplayer* log_replayer() const override { return &cca::cca_log_replayer(); }
};

} // namespace

const Backend& arm_cca_backend() {
    static const ArmCcaBackend backend;
    return backend;
}

} // namespace cvm
