#include "report_commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/backend.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/snp_report.hpp"
#include "cvm/snp_id_block.hpp"
#include "exit_codes.hpp"
#include "key_files.hpp"
#include "lazy_options.hpp"
#include "value_format.hpp"

namespace cvmlaunch {

void ReportCommands::add_to(CLI::App& app) {
    verify_ = app.add_subcommand("verify-report",
                                 "AMD SEV-SNP verifier: check an attestation report's VCEK chain and signature, and "
                                 "its measurement against the one predicted for the spec (or --expect)");
    spec_.add_to(*verify_);
    add_options_when_chosen(*verify_, [this](CLI::App& c) {
        c.add_option("--report", report_file, "The 1184-byte attestation report")->required();
        c.add_option("--vcek", vcek, "The chip's VCEK certificate (PEM or DER)")->required();
        c.add_option("--ask", ask, "The product's ASK certificate (PEM or DER)")->required();
        c.add_option("--ark", ark, "The product's ARK certificate, the root you trust (PEM or DER)")->required();
        c.add_option("--expect", expect,
                     "The expected measurement (hex or base64, \"sha384:\" prefix allowed) instead of predicting it "
                     "from --tech amd-sev-snp --firmware ...");
        c.add_option("--report-data", report_data, "Also require REPORT_DATA to be these 64 bytes (hex)");
        c.add_option("--id-key-pub", id_key_pub,
                     "Also require ID_KEY_DIGEST to be this key's (PEM, public or private; the ID block's signer)");
        c.add_option("--author-key-pub", author_key_pub,
                     "Also require AUTHOR_KEY_EN and AUTHOR_KEY_DIGEST to be this key's (PEM)");
        c.footer(kExitCodeHelp);
    });
}

bool ReportCommands::run_if_parsed(int& exit_code) const {
    if (!verify_ || !verify_->parsed()) return false;
    exit_code = verify();
    return true;
}

int ReportCommands::verify() const {
    const auto bytes = cvm::read_input_file(report_file, cvm::sev::kSnpReportSize + 1);
    const auto report = cvm::sev::parse_snp_report(bytes, report_file);
    std::vector<std::uint8_t> expected;
    if (!expect.empty()) {
        expected = parse_measurement(expect, "--expect");
    } else {
        auto spec = spec_.to_spec();
        if (spec.technology != "amd-sev-snp")
            throw UsageError("verify-report predicts amd-sev-snp launches: give --tech amd-sev-snp (or --mode snp) "
                             "and the launch's files, or --expect");
        const auto& backend = cvm::find_backend(spec.technology);
        const auto predicted = backend.predict(backend.build_plan(spec));
        expected.assign(predicted.value.bytes().begin(), predicted.value.bytes().end());
    }
    cvm::sev::SnpReportExpectations want;
    want.measurement = expected;
    // --host-data is the launch's own option (amd-sev-snp): what the VMM gave
    // SNP_LAUNCH_FINISH is what the report must carry.
    if (auto it = spec_.backend_options.find("host-data"); it != spec_.backend_options.end() && !it->second.empty())
        want.host_data = cvm::from_hex(it->second, "--host-data");
    if (!report_data.empty()) want.report_data = cvm::from_hex(report_data, "--report-data");
    // The firmware puts SHA-384 of the 0x404-byte SNP public key structure of
    // the keys that signed the ID block at launch (cvm/snp_id_block.hpp).
    auto key_digest = [](const std::string& file) {
        const auto digest = cvm::sev::snp_key_digest(cvm::sev::snp_public_key_from_pem(read_public_pem(file), file));
        return std::vector<std::uint8_t>(digest.begin(), digest.end());
    };
    if (!id_key_pub.empty()) want.id_key_digest = key_digest(id_key_pub);
    if (!author_key_pub.empty()) want.author_key_digest = key_digest(author_key_pub);
    const auto check = cvm::sev::check_snp_report(report, {vcek, ask, ark}, want);
    const bool match = check.match();
    if (spec_.json) {
        fmt::print("{}\n", cvm::sev::snp_report_check_json(report, check));
    } else {
        for (const auto& line : check.checked) fmt::print("ok    {}\n", line);
        for (const auto& line : check.failures) fmt::print("FAIL  {}\n", line);
        fmt::print("{}: report of policy {:#x}, VMPL {}, measurement {}\n", match ? "MATCH" : "MISMATCH", report.policy,
                   report.vmpl, cvm::to_hex(report.measurement));
    }
    return match ? 0 : kExitMismatch;
}

} // namespace cvmlaunch
