// The SEV-SNP attestation report a guest obtains from the AMD secure
// processor (SNP firmware ABI, "ATTESTATION_REPORT Structure"; 1184 bytes,
// little-endian, bytes [0, 0x2a0) signed with the chip's VCEK, ECDSA P-384
// with SHA-384), and its verification against the VCEK certificate chain
// (VCEK signed by the ASK, the ASK by the ARK, the ARK by itself; AMD
// publishes them per product through its key distribution service). For
// verifiers, who then compare the report's measurement with libcvm's
// prediction for the same launch.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"

namespace cvm::sev {

struct SnpReport {
    std::uint32_t version = 0;
    std::uint32_t guest_svn = 0;
    std::uint64_t policy = 0;
    std::array<std::uint8_t, 16> family_id{};
    std::array<std::uint8_t, 16> image_id{};
    std::uint32_t vmpl = 0;
    std::uint32_t signature_algo = 0;  // 1: ECDSA P-384 with SHA-384
    std::uint64_t current_tcb = 0;
    std::uint64_t platform_info = 0;
    std::uint32_t flags = 0;           // bit 0 AUTHOR_KEY_EN, bits 2-4 SIGNING_KEY (0: VCEK)
    std::array<std::uint8_t, 64> report_data{};
    std::array<std::uint8_t, 48> measurement{};
    std::array<std::uint8_t, 32> host_data{};
    std::array<std::uint8_t, 48> id_key_digest{};
    std::array<std::uint8_t, 48> author_key_digest{};
    std::array<std::uint8_t, 32> report_id{};
    std::uint64_t reported_tcb = 0;
    std::array<std::uint8_t, 64> chip_id{};
    std::array<std::uint8_t, 72> signature_r{};  // little-endian, as the report holds them
    std::array<std::uint8_t, 72> signature_s{};
    std::vector<std::uint8_t> signed_bytes;      // [0, 0x2a0)
};

inline constexpr std::size_t kSnpReportSize = 0x4a0;

// Parses a report strictly: its size, a known version (2 or later) and
// signature algorithm 1. Throws a located cvm::Error.
SnpReport parse_snp_report(ByteSpan bytes, const std::string& name);

// The certificates, PEM or DER, as files.
struct SnpCertChain {
    std::string vcek, ask, ark;
};

// Verifies the report's signature with the VCEK and the VCEK up to the ARK
// the caller trusts. Returns one line per step established; throws a
// cvm::Error naming the step that failed (which certificate, or the report).
std::vector<std::string> verify_snp_report(const SnpReport& report, const SnpCertChain& chain);

// What a verifier expects of a report besides a valid signature: the
// predicted MEASUREMENT and, where given, HOST_DATA, REPORT_DATA and the
// digests of the keys that signed the launch's ID block (an expected author
// key also requires FLAGS.AUTHOR_KEY_EN).
struct SnpReportExpectations {
    std::vector<std::uint8_t> measurement;
    std::vector<std::uint8_t> host_data, report_data, id_key_digest, author_key_digest;  // empty: not checked
};

struct SnpReportCheck {
    std::vector<std::string> checked;   // one line per fact established
    std::vector<std::string> failures;  // one line per fact that does not hold
    bool match() const { return failures.empty(); }
};

// The chain and signature (a failure line, not an exception, when they do
// not hold), then every expectation, each a line.
SnpReportCheck check_snp_report(const SnpReport& report, const SnpCertChain& chain, const SnpReportExpectations& expect);

// The report's fields and the check as one JSON object: {"match",
// "version", "policy", "vmpl", "measurement", "host_data", "id_key_digest",
// "author_key_digest", "family_id", "image_id", "guest_svn", "report_data",
// "chip_id", "reported_tcb", "checked", "failures"} (cvm-launch verify-report
// --json, cvm_snp_verify_report, cvm.snp_verify_report).
std::string snp_report_check_json(const SnpReport& report, const SnpReportCheck& check);

} // namespace cvm::sev
