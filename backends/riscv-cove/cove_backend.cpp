// The riscv-cove backend: a RISC-V CoVE TVM launched through the 2023 CoVE
// KVM RFC interface in kvmtool's layout and order, and its measurement
// predicted with the Salus TSM's model.
#include "backends/riscv-cove/cove_backend.hpp"

#include "backends/riscv-cove/cove_config.hpp"
#include "backends/riscv-cove/cove_launcher.hpp"
#include "backends/riscv-cove/cove_log.hpp"
#include "backends/riscv-cove/cove_planner.hpp"
#include "backends/riscv-cove/cove_predictor.hpp"
#include "backends/riscv-cove/salus_model.hpp"
#include "libcvm/plan/software_measurement.hpp"

namespace cvm {
namespace {

class RiscvCoveBackend final : public Backend {
public:
    std::string_view name() const override { return "riscv-cove"; }
    std::string_view summary() const override {
        return "RISC-V CoVE TVM (KVM RFC 2023, kvmtool layout); TVM measurement of the Salus TSM (SHA-384)";
    }
    std::vector<OptionInfo> options() const override {
        return {
            {"tsm-abi", "CoVE COVH ABI revision of the host kernel and TSM (function numbering)", "v0.5",
             {"v0.5", "v0.7"}},
            // Facts of the host that kvmtool reads from KVM and writes into
            // the measured DTB (docs/riscv-cove.md, "Host values").
            {"isa", "riscv,isa of every hart as kvmtool composes it from KVM's ISA registers",
             "rv64imafdc_ssaia_sstc_zihintpause_zicbom", {}},
            {"cbom-block-size", "riscv,cbom-block-size in bytes (KVM's zicbom_block_size; written only with _zicbom)",
             "64", {}, OptionKind::number},
            {"timebase-frequency", "timebase-frequency in Hz (KVM's timer config register)", "10000000", {}, OptionKind::number},
            {"imsic-num-ids", "riscv,num-ids of the IMSIC (the AIA device's KVM_DEV_RISCV_AIA_CONFIG_IDS)", "255", {}, OptionKind::number},
        };
    }
    LaunchPlan build_plan(const VmSpec& spec) const override {
        return cove::build_cove_plan(spec, resolve_options(*this, spec));
    }
    Measurement predict(const LaunchPlan& plan) const override { return cove::predict_cove(plan); }
    // Salus keeps no event log (rivosinc/salus#74): the events are the plan's
    // software events, which name every measured step.
    std::vector<PlanEvent> events(const LaunchPlan& plan) const override { return software_events(plan); }
    RunResult launch(const LaunchPlan& plan, const RunOptions& options) const override {
        refuse_owner_round_trip(options, name());
        return cove::launch_cove(plan, options);
    }
    const eventlog::LogReplayer* log_replayer() const override { return &cove::cove_log_replayer(); }
    std::shared_ptr<const VmConfig> decode_config(std::span<const ConfigField> fields) const override {
        return cove::decode_tvm_config(fields);
    }
    // COVG extend_measurement on a runtime register (Salus's padded rule).
    Digest runtime_extend(const Digest& old_value, ByteSpan digest48) const override {
        return cove::salus_runtime_extend(old_value, digest48);
    }
};

} // namespace

const Backend& riscv_cove_backend() {
    static const RiscvCoveBackend backend;
    return backend;
}

} // namespace cvm
