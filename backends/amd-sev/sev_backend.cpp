// The AMD SEV backends: SEV, SEV-ES and SEV-SNP guests booted from an OVMF
// firmware through KVM_MEMORY_ENCRYPT_OP, and the launch digest the AMD
// secure processor will report for them. One implementation, three names,
// because the technology names the measurement model.
#include "backends/amd-sev/sev_backend.hpp"

#include "backends/amd-sev/launch_config.hpp"
#include "backends/amd-sev/sev_log.hpp"
#include "backends/amd-sev/sev_launcher.hpp"
#include "backends/amd-sev/sev_planner.hpp"
#include "backends/amd-sev/sev_predictor.hpp"

namespace cvm {
namespace {

class SevBackend final : public Backend {
public:
    explicit SevBackend(sev::Mode mode) : mode_(mode) {}

    std::string_view name() const override { return sev::technology_name(mode_); }
    std::string_view summary() const override {
        switch (mode_) {
        case sev::Mode::sev: return "AMD SEV, OVMF firmware; launch digest SHA-256 (firmware, kernel hashes)";
        case sev::Mode::es: return "AMD SEV-ES, OVMF firmware; launch digest SHA-256 (firmware, kernel hashes, VMSAs)";
        case sev::Mode::snp: return "AMD SEV-SNP, OVMF firmware; measurement SHA-384 PAGE_INFO chain";
        }
        return "";
    }
    std::vector<OptionInfo> options() const override {
        std::vector<OptionInfo> o;
        switch (mode_) {
        case sev::Mode::sev:
            o.push_back({"policy", "guest policy given to LAUNCH_START (u32; bit 0 NODBG ... see docs/amd-sev.md)", "0x1", {}, OptionKind::number});
            break;
        case sev::Mode::es:
            o.push_back({"policy", "guest policy given to LAUNCH_START (u32; must have bit 2, ES)", "0x5", {}, OptionKind::number});
            break;
        case sev::Mode::snp:
            o.push_back({"policy", "SNP guest policy given to SNP_LAUNCH_START (u64; bit 17 must be 1)", "0x30000", {}, OptionKind::number});
            o.push_back({"guest-features", "SEV features of the VMSAs (bit 0 SNPActive; 0x21 adds DebugSwap)", "0x1", {}, OptionKind::number});
            o.push_back({"host-data", "32 bytes (64 hex digits) given at SNP_LAUNCH_FINISH, which the attestation "
                                      "report carries as HOST_DATA; not measured", "", {}});
            o.push_back({"id-block", "the guest owner's 96-byte SNP ID block file for SNP_LAUNCH_FINISH (with id-auth; "
                                     "cvm-launch snp-id-block makes both); not measured", "", {}});
            o.push_back({"id-auth", "the 4096-byte ID authentication structure signing id-block", "", {}});
            break;
        }
        if (mode_ != sev::Mode::snp) {
            o.push_back({"owner-dh-cert", "guest owner's PDH certificate file (SEV format) for LAUNCH_START; "
                                          "with owner-session", "", {}});
            o.push_back({"owner-session", "guest owner's 128-byte launch session blob file for LAUNCH_START", "", {}});
        }
        if (mode_ != sev::Mode::snp)
            o.push_back({"sev-init", "KVM init: legacy KVM_SEV_INIT/ES_INIT on a default VM, or KVM_SEV_INIT2",
                         "init2", {"legacy", "init2"}});
        if (mode_ != sev::Mode::sev) {
            o.push_back({"vcpu-type", "QEMU CPU model whose CPUID signature the vCPUs get in RDX: " +
                                          sev::vcpu_model_names(), "EPYC-v4", {}});
            o.push_back({"vmm", "VMM whose initial vCPU state (and SNP metadata order) to reproduce", "qemu",
                         {"qemu", "ec2", "gce"}});
        }
        return o;
    }
    LaunchPlan build_plan(const VmSpec& spec) const override {
        return sev::build_sev_plan(spec, mode_, resolve_options(*this, spec));
    }
    Measurement predict(const LaunchPlan& plan) const override { return sev::predict_launch_digest(plan); }
    std::vector<PlanEvent> events(const LaunchPlan& plan) const override { return sev::launch_events(plan); }
    Prediction predict_with_events(const LaunchPlan& plan) const override {
        return sev::predict_launch_digest_with_events(plan);
    }
    RunResult launch(const LaunchPlan& plan, const RunOptions& options) const override {
        return sev::launch_sev(plan, options);
    }
    std::shared_ptr<const VmConfig> decode_config(std::span<const ConfigField> fields) const override {
        return sev::decode_config(fields, name());
    }
    const eventlog::LogReplayer* log_replayer() const override {
        switch (mode_) {
        case sev::Mode::sev: return &sev::sev_log_replayer();
        case sev::Mode::es: return &sev::sev_es_log_replayer();
        case sev::Mode::snp: return &sev::sev_snp_log_replayer();
        }
        return nullptr;
    }

private:
    sev::Mode mode_;

};

} // namespace

const Backend& amd_sev_backend() {
    static const SevBackend backend(sev::Mode::sev);
    return backend;
}
const Backend& amd_sev_es_backend() {
    static const SevBackend backend(sev::Mode::es);
    return backend;
}
const Backend& amd_sev_snp_backend() {
    static const SevBackend backend(sev::Mode::snp);
    return backend;
}

} // namespace cvm
