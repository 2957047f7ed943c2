// A verifier's whole check of an SNP report (cvm/snp_report.hpp): one
// implementation for cvm-launch verify-report, the C ABI and Python.
#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/snp_report.hpp"

namespace cvm::sev {

SnpReportCheck check_snp_report(const SnpReport& report, const SnpCertChain& chain, const SnpReportExpectations& expect) {
    SnpReportCheck result;
    try {
        result.checked = verify_snp_report(report, chain);
    } catch (const Error& e) {
        result.failures.push_back(e.what());
    }
    auto compare = [&](const char* field, ByteSpan got, const std::vector<std::uint8_t>& want) {
        if (want.empty()) return;
        if (std::equal(got.begin(), got.end(), want.begin(), want.end()))
            result.checked.push_back(fmt::format("{} is the expected {}", field, to_hex(want)));
        else
            result.failures.push_back(fmt::format("{} is {}, not the expected {}", field, to_hex(got), to_hex(want)));
    };
    if (expect.measurement.empty()) throw Error("a report check needs the expected measurement");
    compare("MEASUREMENT", report.measurement, expect.measurement);
    compare("HOST_DATA", report.host_data, expect.host_data);
    compare("REPORT_DATA", report.report_data, expect.report_data);
    compare("ID_KEY_DIGEST", report.id_key_digest, expect.id_key_digest);
    if (!expect.author_key_digest.empty()) {
        // FLAGS bit 0 is the launch's AUTHOR_KEY_EN; without it the digest is zeros.
        if (report.flags & 1)
            result.checked.push_back("AUTHOR_KEY_EN is set");
        else
            result.failures.push_back(fmt::format("AUTHOR_KEY_EN (FLAGS bit 0) is clear: the ID key was not signed by "
                                                  "an author key (FLAGS {:#x})", report.flags));
        compare("AUTHOR_KEY_DIGEST", report.author_key_digest, expect.author_key_digest);
    }
    return result;
}

std::string snp_report_check_json(const SnpReport& report, const SnpReportCheck& check) {
    nlohmann::ordered_json j;
    j["match"] = check.match();
    j["version"] = report.version;
    j["policy"] = fmt::format("{:#x}", report.policy);
    j["vmpl"] = report.vmpl;
    j["measurement"] = to_hex(report.measurement);
    j["host_data"] = to_hex(report.host_data);
    j["id_key_digest"] = to_hex(report.id_key_digest);
    j["author_key_digest"] = to_hex(report.author_key_digest);
    j["family_id"] = to_hex(report.family_id);
    j["image_id"] = to_hex(report.image_id);
    j["guest_svn"] = report.guest_svn;
    j["report_data"] = to_hex(report.report_data);
    j["chip_id"] = to_hex(report.chip_id);
    j["reported_tcb"] = fmt::format("{:#018x}", report.reported_tcb);
    j["checked"] = check.checked;
    j["failures"] = check.failures;
    return j.dump(2);
}

} // namespace cvm::sev
