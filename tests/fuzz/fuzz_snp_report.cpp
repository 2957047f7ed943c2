// An SNP attestation report from anyone: parse_snp_report either refuses it
// with a cvm::Error or returns fields that lie inside it.
#include <cstdint>
#include <cstdlib>

#include "cvm/error.hpp"
#include "cvm/snp_report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        auto report = cvm::sev::parse_snp_report(cvm::ByteSpan(data, size), "fuzz");
        if (report.signed_bytes.size() != 0x2a0 || size != cvm::sev::kSnpReportSize) std::abort();
    } catch (const cvm::Error&) {
    }
    return 0;
}
