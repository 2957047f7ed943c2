// A CoVE log is libcvm's operation log: Salus hashes every measured page's
// 4 KiB of contents with its GPA (PCR2) and the boot pc and a1 (PCR3), so
// the log records each load's GPA, size and SHA-256 (and the bytes libcvm
// generated, such as the DTB), the vCPU registers and the finalize; the
// verifier supplies the kernel file; the replay rebuilds the plan and runs
// the Salus model over it. Salus keeps no log of its own (rivosinc/salus#74).
#include "backends/riscv-cove/cove_log.hpp"

#include <fmt/format.h>

#include "backends/riscv-cove/cove_predictor.hpp"
#include "cvm/error.hpp"

namespace cvm::cove {
namespace {

class CoveLogReplayer final : public eventlog::LogReplayer {
public:
    std::string_view technology() const override { return "riscv-cove"; }
    bool recognizes(const eventlog::Log& log) const override {
        std::string vendor(log.spec_id.vendor_info.begin(), log.spec_id.vendor_info.end());
        return vendor == eventlog::vendor_info_for(technology());
    }
    void verify(const eventlog::Log& log, const std::string& name, const eventlog::ImageList& images,
                eventlog::Verification& out) const override {
        auto plan = eventlog::rebuild_plan(log, name, images, "riscv-cove", HashAlgorithm::sha384, out);
        if (!plan) return;
        try {
            Measurement m = predict_cove(*plan);
            out.replayed = m.value;
            for (const auto& r : m.registers) out.registers.emplace_back(r.name, r.value);
        } catch (const Error& error) {
            out.failures.push_back(fmt::format("the events describe a launch the riscv-cove model refuses: {}",
                                               error.message()));
        }
    }
};

} // namespace

const eventlog::LogReplayer& cove_log_replayer() {
    static const CoveLogReplayer rules;
    return rules;
}

} // namespace cvm::cove
