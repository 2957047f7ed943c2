// An SEV log is libcvm's operation log of the launch plan: the launch digest
// hashes whole page contents (SHA-256 over every byte on SEV/SEV-ES, a
// SHA-384 per page on SNP), which no image digest can stand in for. So the
// log records each operation's parameters (GPAs, sizes, SNP page types, the
// create-vm settings that shape the VMSA, every register of every vCPU) and
// the bytes libcvm generated (the kernel-hashes table); the verifier supplies
// the firmware file; the replay rebuilds the plan and runs the predictor,
// which recomputes every VMSA from its registers.
#include "backends/amd-sev/sev_log.hpp"

#include <fmt/format.h>

#include "backends/amd-sev/kernel_hashes.hpp"
#include "backends/amd-sev/launch_config.hpp"
#include "backends/amd-sev/sev_predictor.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm::sev {
namespace {

// The kernel and initrd enter the launch digest only through the hashes
// table, so a matching digest says nothing about them until each entry is
// found among the verifier's images.
void check_hash_tables(const LaunchPlan& plan, const eventlog::ImageList& images, eventlog::Verification& out) {
    static const auto empty = hash(HashAlgorithm::sha256, ByteSpan{});
    for (const auto& operation : plan.operations()) {
        const auto* load = std::get_if<op::LoadData>(&operation);
        if (!load || load->data.is_file()) continue;
        auto table = find_hash_table(load->data.bytes());
        if (!table) continue;
        auto check = [&](const char* what, const std::array<std::uint8_t, 32>& digest, bool may_be_empty) {
            ByteSpan d(digest.data(), digest.size());
            if (may_be_empty && to_hex(d) == empty.hex()) {
                out.checked.push_back(fmt::format("{}: kernel-hashes table: no {}", load->label, what));
            } else if (const auto* image = images.find(HashAlgorithm::sha256, d)) {
                out.checked.push_back(fmt::format("{}: kernel-hashes table: {} matches {}", load->label, what,
                                                  image->what));
            } else {
                out.failures.push_back(fmt::format("{}: kernel-hashes table: the {} sha256 {} is not in the images "
                                                   "list", load->label, what, to_hex(d)));
            }
        };
        check("kernel", table->kernel, false);
        check("initrd", table->initrd, true);
        out.checked.push_back(fmt::format("{}: kernel-hashes table: command line sha256 {} (the verifier's policy "
                                          "decides which command lines are acceptable)", load->label,
                                          to_hex(ByteSpan(table->cmdline.data(), 32))));
    }
}

class SevLogReplayer final : public eventlog::LogReplayer {
public:
    explicit SevLogReplayer(Mode mode) : mode_(mode) {}
    std::string_view technology() const override { return technology_name(mode_); }
    bool recognizes(const eventlog::Log& log) const override {
        std::string vendor(log.spec_id.vendor_info.begin(), log.spec_id.vendor_info.end());
        return vendor == eventlog::vendor_info_for(technology());
    }
    void verify(const eventlog::Log& log, const std::string& name, const eventlog::ImageList& images,
                eventlog::Verification& out) const override {
        HashAlgorithm algorithm = mode_ == Mode::snp ? HashAlgorithm::sha384 : HashAlgorithm::sha256;
        auto plan = eventlog::rebuild_plan(log, name, images, std::string(technology()), algorithm, out);
        if (!plan) return;
        check_hash_tables(*plan, images, out);
        try {
            out.replayed = predict_launch_digest(*plan).value;
        } catch (const Error& error) {
            out.failures.push_back(fmt::format("the events describe a launch the {} model refuses: {}", technology(),
                                               error.message()));
        }
    }

private:
    Mode mode_;
};

} // namespace

const eventlog::LogReplayer& sev_log_replayer() {
    static const SevLogReplayer rules(Mode::sev);
    return rules;
}
const eventlog::LogReplayer& sev_es_log_replayer() {
    static const SevLogReplayer rules(Mode::es);
    return rules;
}
const eventlog::LogReplayer& sev_snp_log_replayer() {
    static const SevLogReplayer rules(Mode::snp);
    return rules;
}

} // namespace cvm::sev
