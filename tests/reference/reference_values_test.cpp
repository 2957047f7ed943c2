// The reference-value formats' rules that need no decoder: which format
// takes which technology, the SNP policy bits Trustee's policy compares
// (their positions from the SEV-SNP firmware ABI's GUEST_POLICY), and the
// errors that name what is wrong. The documents themselves are checked with
// independent decoders (corim_oracle_test.py, reference_cli_test.sh).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cvm/error.hpp"
#include "cvm/reference_values.hpp"
#include "libcvm/reference/corim.hpp"
#include "libcvm/reference/trustee.hpp"

namespace {

using namespace cvm;
using namespace cvm::reference;

LaunchValues snp(std::string policy) {
    std::vector<std::uint8_t> m(48, 0xab);
    return {"amd-sev-snp", Digest(HashAlgorithm::sha384, m), {}, {{"mode", "amd-sev-snp"}, {"policy", policy}}};
}

LaunchValues realm(HashAlgorithm algorithm) {
    std::vector<std::uint8_t> m(digest_size(algorithm), 0x5a);
    return {"arm-cca", Digest(algorithm, m), {}, {{"rpv", std::string(128, '0')}}};
}

std::string text(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

TEST(ReferenceValues, FormatNames) {
    EXPECT_EQ(parse_format("corim"), Format::corim);
    EXPECT_EQ(parse_format("trustee"), Format::trustee);
    EXPECT_EQ(parse_format("keybroker"), Format::keybroker);
    try {
        parse_format("swid");
        FAIL() << "swid accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'swid' (expected corim, trustee or keybroker)"), std::string::npos) << e.what();
    }
}

// GUEST_POLICY: ABI minor bits 7:0, major 15:8, SMT bit 16, SINGLE_SOCKET bit 20.
TEST(ReferenceValues, TrusteeSnpPolicyFields) {
    auto payload = nlohmann::json::parse(trustee_payload(snp("0x130304")));
    EXPECT_EQ(payload["snp_guest_abi_major"], 3);
    EXPECT_EQ(payload["snp_guest_abi_minor"], 4);
    EXPECT_EQ(payload["snp_smt_allowed"], true);
    EXPECT_EQ(payload["snp_single_socket"], true);
    std::string hex;
    for (int i = 0; i < 48; ++i) hex += "ab";
    EXPECT_EQ(payload["snp_launch_measurement"], nlohmann::json::array({hex}));
    payload = nlohmann::json::parse(trustee_payload(snp("0x20000")));
    EXPECT_EQ(payload["snp_smt_allowed"], false);
    EXPECT_EQ(payload["snp_single_socket"], false);
    EXPECT_EQ(payload["snp_guest_abi_major"], 0);
}

TEST(ReferenceValues, SnpWithoutPolicyNamesTheField) {
    LaunchValues v = snp("0x30000");
    v.config.pop_back();
    try {
        render(Format::trustee, v);
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no \"policy\" field"), std::string::npos) << e.what();
    }
}

TEST(ReferenceValues, WhatEachFormatTakes) {
    LaunchValues sev{"amd-sev", Digest(HashAlgorithm::sha256, std::vector<std::uint8_t>(32, 1)), {}, {}};
    EXPECT_THROW(render(Format::trustee, sev), Error);
    EXPECT_THROW(render(Format::keybroker, sev), Error);
    EXPECT_THROW(render(Format::keybroker, snp("0x30000")), Error);
    EXPECT_THROW(render(Format::keybroker, realm(HashAlgorithm::sha384)), Error);
    auto keybroker = nlohmann::json::parse(text(render(Format::keybroker, realm(HashAlgorithm::sha256))));
    // 32 bytes of 0x5a in standard base64.
    EXPECT_EQ(keybroker, nlohmann::json::parse(R"({"reference-values":["WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="]})"));
    auto trustee = nlohmann::json::parse(text(render(Format::trustee, realm(HashAlgorithm::sha256))));
    EXPECT_EQ(trustee["version"], "0.1.0");
    EXPECT_EQ(trustee["type"], "sample");
}

// The ids are an RFC 9562 UUID: version 8 in the high nibble of byte 6,
// variant 10 in the top bits of byte 8; the same launch gives the same ids.
TEST(ReferenceValues, CorimIdsAreAStableUuid) {
    CorimIds a = corim_ids_for(realm(HashAlgorithm::sha256));
    CorimIds b = corim_ids_for(realm(HashAlgorithm::sha256));
    CorimIds c = corim_ids_for(snp("0x30000"));
    EXPECT_EQ(a.tag_id, b.tag_id);
    EXPECT_NE(a.tag_id, c.tag_id);
    EXPECT_EQ(a.tag_id[6] >> 4, 8);
    EXPECT_EQ(a.tag_id[8] >> 6, 2);
    ASSERT_EQ(a.corim_id.size(), 36u);
    EXPECT_EQ(a.corim_id[8], '-');
    EXPECT_EQ(a.corim_id[14], '8');
    EXPECT_EQ(a.corim_id.substr(0, 8), to_hex(ByteSpan(a.tag_id.data(), 4)));
}

} // namespace
