// What verifiers consume, for C callers: reference values in the formats
// of verifier services (cvm/reference_values.hpp) and the check of an
// SEV-SNP attestation report (cvm/snp_report.hpp).
#include <cstdlib>
#include <cstring>
#include <new>

#include "cvm/reference_values.hpp"
#include "cvm/snp_report.hpp"
#include "libcvm/capi/handles.hpp"
#include "libcvm/capi/status.hpp"

using cvm::capi::guarded;

extern "C" {

cvm_status cvm_reference_values(const cvm_plan* plan, const char* format, uint8_t** bytes, size_t* size) {
    CVM_REQUIRE(plan);
    CVM_REQUIRE(format);
    CVM_REQUIRE(bytes);
    CVM_REQUIRE(size);
    return guarded([&] {
        const auto chosen = cvm::reference::parse_format(format);
        const auto measurement = plan->backend->predict(plan->plan);
        const auto out = cvm::reference::render(chosen, cvm::reference::launch_values(plan->plan, measurement));
        auto* copy = static_cast<uint8_t*>(std::malloc(out.empty() ? 1 : out.size()));
        if (!copy) throw std::bad_alloc();
        if (!out.empty()) std::memcpy(copy, out.data(), out.size());
        *bytes = copy;
        *size = out.size();
    });
}

cvm_status cvm_snp_verify_report(const uint8_t* report, size_t report_size, const char* vcek, const char* ask,
                                 const char* ark, const uint8_t* measurement, const uint8_t* host_data,
                                 const uint8_t* report_data, const uint8_t* id_key_digest,
                                 const uint8_t* author_key_digest, int* match, char** report_json) {
    CVM_REQUIRE(report);
    CVM_REQUIRE(vcek);
    CVM_REQUIRE(ask);
    CVM_REQUIRE(ark);
    CVM_REQUIRE(measurement);
    CVM_REQUIRE(match);
    return guarded([&] {
        const auto parsed = cvm::sev::parse_snp_report(cvm::ByteSpan(report, report_size), "attestation report");
        auto bytes = [](const uint8_t* p, std::size_t n) {
            return p ? std::vector<std::uint8_t>(p, p + n) : std::vector<std::uint8_t>{};
        };
        cvm::sev::SnpReportExpectations want;
        want.measurement = bytes(measurement, 48);
        want.host_data = bytes(host_data, 32);
        want.report_data = bytes(report_data, 64);
        want.id_key_digest = bytes(id_key_digest, 48);
        want.author_key_digest = bytes(author_key_digest, 48);
        const auto check = cvm::sev::check_snp_report(parsed, {vcek, ask, ark}, want);
        if (report_json) *report_json = cvm::capi::malloc_copy(cvm::sev::snp_report_check_json(parsed, check));
        *match = check.match() ? 1 : 0;
    });
}

} // extern "C"
