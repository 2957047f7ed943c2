// The SEV certificate formats against real AMD certificates: AMD's Naples
// and Rome ARK and ASK, and the CEK, PEK, OCA and PDH two real platforms
// exported (tests/vectors/sev/certs/PROVENANCE.md). That these chains verify
// is the outside oracle for the layouts and the cryptography; every
// corruption below must break exactly the link it touches.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "cvm/bytes.hpp"
#include "cvm/error.hpp"
#include "cvm/sev_cert.hpp"
#include "test_files.hpp"
#include "test_paths.hpp"

using namespace cvm;
using namespace cvm::sev;

namespace {

std::string cert_path(const std::string& product, const std::string& role) {
    return cvmtest::vectors_dir() + "/sev/certs/" + product + "/" + role + ".cert";
}

std::vector<std::uint8_t> read(const std::string& path) {
    return cvmtest::read_file(path);
}

PdhChainFiles files(const std::string& product) {
    return {cert_path(product, "pdh"), cert_path(product, "pek"), cert_path(product, "oca"),
            cert_path(product, "cek"), cert_path(product, "ask"), cert_path(product, "ark")};
}

// The chain with one certificate's bytes replaced.
PdhChain chain_with(const std::string& product, const std::string& role, const std::vector<std::uint8_t>& bytes) {
    auto chain = read_pdh_chain(files(product));
    if (role == "ark") chain.ark = parse_amd_signing_key(bytes, role, CertUsage::ark);
    else if (role == "ask") chain.ask = parse_amd_signing_key(bytes, role, CertUsage::ask);
    else if (role == "cek") chain.cek = parse_sev_certificate(bytes, role, CertUsage::cek);
    else if (role == "pek") chain.pek = parse_sev_certificate(bytes, role, CertUsage::pek);
    else if (role == "oca") chain.oca = parse_sev_certificate(bytes, role, CertUsage::oca);
    else chain.pdh = parse_sev_certificate(bytes, role, CertUsage::pdh);
    return chain;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

class RealChain : public ::testing::TestWithParam<const char*> {};

TEST_P(RealChain, Verifies) {
    const auto result = verify_pdh_chain(read_pdh_chain(files(GetParam())));
    EXPECT_TRUE(result.trusted()) << joined(result.failures);
    EXPECT_EQ(result.checked.size(), 7u) << joined(result.checked);
}

// Writing a parsed certificate gives AMD's bytes back: every field is where
// the parser read it.
TEST_P(RealChain, SevCertificatesRoundTrip) {
    for (const char* role : {"cek", "pek", "oca", "pdh"}) {
        const auto bytes = read(cert_path(GetParam(), role));
        const auto written = write_sev_certificate(parse_sev_certificate(bytes, role));
        EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), written.begin(), written.end())) << role;
    }
}

// One flipped bit in the signed part (or the signature) of each certificate
// breaks that certificate's link and no other.
TEST_P(RealChain, OneByteCorruptionBreaksItsLink) {
    struct Case {
        const char* role;
        std::size_t offset;   // a byte that is signed, or part of a signature
        const char* failure;  // the expected start of the failure line
        const char* refusal;  // or, for a key OpenSSL refuses outright, the error
    };
    const bool naples = std::string(GetParam()) == "naples";
    const std::size_t modulus = naples ? 0x40 + 256 : 0x40 + 512, amd_sig = naples ? 0x40 + 2 * 256 : 0x40 + 2 * 512;
    const Case cases[] = {
        {"ark", amd_sig + 7, "the ARK certificate's signature", nullptr},
        {"ask", 0x4 + 2, "the ASK certificate's signature", nullptr},  // KEY_ID
        // A changed modulus almost surely has small factors, which
        // OpenSSL's RSA public-key check (SP 800-56B) refuses.
        {"ask", modulus + 5, nullptr, "the ASK certificate's public key fails OpenSSL's RSA public-key check"},
        {"cek", 0x414 + 8 + 100, "the CEK certificate's SIG1", nullptr},  // the RSA signature
        {"cek", 0x4, "the CEK certificate's SIG1", nullptr},              // API major
        // A changed coordinate leaves the curve.
        {"cek", 0x14 + 3, nullptr, "the CEK certificate's public key: QX, QY are not a point of P-384"},
        {"pdh", 0x5c + 1, nullptr, "the PDH certificate's public key: QX, QY are not a point of P-384"},
        {"pdh", 0x414 + 8 + 80, "the PDH certificate's SIG1", nullptr},  // S
        {"oca", 0x5, "the OCA certificate's SIG1", nullptr},             // API minor
    };
    for (const auto& c : cases) {
        auto bytes = read(cert_path(GetParam(), c.role));
        ASSERT_LT(c.offset, bytes.size());
        bytes[c.offset] ^= 0x01;
        PdhChainResult result;
        try {
            result = verify_pdh_chain(chain_with(GetParam(), c.role, bytes));
        } catch (const Error& e) {
            EXPECT_TRUE(c.refusal && std::string(e.what()) == c.refusal) << c.role << " @" << c.offset << ": "
                                                                         << e.what();
            continue;
        }
        if (c.refusal) {
            ADD_FAILURE() << c.role << " @" << c.offset << " was not refused";
            continue;
        }
        EXPECT_FALSE(result.trusted()) << c.role << " @" << c.offset;
        bool named = false;
        for (const auto& f : result.failures) named |= f.rfind(c.failure, 0) == 0;
        EXPECT_TRUE(named) << c.role << " @" << c.offset << ":\n" << joined(result.failures);
    }
    // The PEK's two signatures are checked independently.
    auto pek = read(cert_path(GetParam(), "pek"));
    pek[0x61c + 8 + 10] ^= 0x80;  // SIG2, the CEK's
    const auto result = verify_pdh_chain(chain_with(GetParam(), "pek", pek));
    ASSERT_EQ(result.failures.size(), 1u) << joined(result.failures);
    EXPECT_NE(result.failures[0].find("SIG2 (offset 0x61c"), std::string::npos) << result.failures[0];
    EXPECT_NE(result.failures[0].find("CEK"), std::string::npos) << result.failures[0];
}

INSTANTIATE_TEST_SUITE_P(Products, RealChain, ::testing::Values("naples", "rome"));

// A Naples CEK is not signed by the Rome ASK (virtee/sev's enarx#520 false
// positive), nor a Rome PEK by the Naples CEK.
TEST(SevCertChain, CrossProductChainsFail) {
    auto chain = read_pdh_chain(files("naples"));
    chain.ask = read_pdh_chain(files("rome")).ask;
    auto result = verify_pdh_chain(chain);
    ASSERT_FALSE(result.trusted());
    EXPECT_NE(joined(result.failures).find("the ASK certificate's CERTIFYING_ID"), std::string::npos)
        << joined(result.failures);
    EXPECT_NE(joined(result.failures).find("the CEK certificate's SIG1"), std::string::npos) << joined(result.failures);

    chain = read_pdh_chain(files("rome"));
    chain.cek = read_pdh_chain(files("naples")).cek;
    result = verify_pdh_chain(chain);
    ASSERT_FALSE(result.trusted());
    EXPECT_NE(joined(result.failures).find("the PEK certificate's SIG2"), std::string::npos)
        << joined(result.failures);
}

// Parser refusals: each names the file, the offset, the field and what was
// expected.
TEST(SevCertParse, RefusesMalformed) {
    const auto pdh = read(cert_path("rome", "pdh"));
    struct Case {
        std::size_t offset;
        std::uint8_t value;
        const char* message;
    };
    const Case cases[] = {
        {0x0, 2, "offset 0x0: VERSION: expected 1, found 2"},
        {0x6, 1, "offset 0x6: reserved bytes"},
        {0x8, 0x05, "offset 0x8: PUB_KEY_USAGE"},        // 0x1005
        {0xc, 0x02, "offset 0xc: PUB_KEY_ALGO"},         // ECDSA for a PDH
        {0x10, 1, "offset 0x10: CURVE: expected 2 (P-384), found 1"},
        {0x14 + 48, 1, "offset 0x44: QX"},
        {0x5c + 71, 1, "offset 0xa3: QY: expected zero above the 48 bytes"},
        {0x200, 1, "offset 0x200: public key padding: expected zero after QY, found 0x01"},
        {0x414 + 4, 0x09, "offset 0x418: SIG1_ALGO"},
        {0x414 + 8 + 50, 1, "offset 0x44e: SIG1 R"},
        {0x414 + 8 + 200, 1, "offset 0x4e4: SIG1: expected zero after R and S"},
        {0x61c + 8 + 3, 1, "offset 0x627: SIG2: expected all zero in an unused slot"},
        {0x61c, 0x07, "offset 0x61c: SIG2_USAGE"},       // 0x1007
    };
    for (const auto& c : cases) {
        auto bytes = pdh;
        bytes[c.offset] = c.value;
        try {
            parse_sev_certificate(bytes, "pdh.cert", CertUsage::pdh);
            ADD_FAILURE() << "accepted a change at " << c.offset;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("pdh.cert"), std::string::npos) << e.what();
        }
    }
    auto short_cert = pdh;
    short_cert.pop_back();
    EXPECT_THROW(parse_sev_certificate(short_cert, "pdh.cert"), Error);
    // The right format but the wrong role.
    try {
        parse_sev_certificate(read(cert_path("rome", "pek")), "pek.cert", CertUsage::pdh);
        ADD_FAILURE() << "a PEK accepted as the PDH";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("PUB_KEY_USAGE: expected PDH (0x1003), found PEK (0x1002)"),
                  std::string::npos) << e.what();
    }
}

TEST(AmdSigningKeyParse, RefusesMalformed) {
    const auto ask = read(cert_path("naples", "ask"));
    const auto parsed = parse_amd_signing_key(ask, "ask.cert", CertUsage::ask);
    EXPECT_EQ(parsed.modulus_bits, 2048u);
    EXPECT_EQ(parsed.signed_bytes.size(), 0x40u + 512);
    struct Case {
        std::size_t offset;
        std::uint8_t value;
        const char* message;
    };
    const Case cases[] = {
        {0x0, 0, "offset 0x0: VERSION: expected 1, found 0"},
        {0x24, 0x00, "offset 0x24: KEY_USAGE: expected ASK (0x13), found ARK (0x0)"},
        {0x30, 1, "offset 0x30: reserved bytes"},
        {0x39, 0x09, "offset 0x38: PUB_EXP_SIZE: expected 2048 or 4096 bits, found 2304"},
        {0x3c, 1, "offset 0x3c: MODULUS_SIZE"},
    };
    for (const auto& c : cases) {
        auto bytes = ask;
        bytes[c.offset] = c.value;
        try {
            parse_amd_signing_key(bytes, "ask.cert", CertUsage::ask);
            ADD_FAILURE() << "accepted a change at " << c.offset;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
        }
    }
    // The Naples ARK as AMD first published it lacked its signature
    // (AMDESE/AMDSEV issue 17; virtee/sev tests/naples/ark.cert.bad): 576
    // bytes instead of 832, refused by size.
    auto truncated = read(cert_path("naples", "ark"));
    truncated.resize(576);
    try {
        parse_amd_signing_key(truncated, "ark.cert", CertUsage::ark);
        ADD_FAILURE() << "accepted a truncated ARK";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("expected 832 bytes"), std::string::npos) << e.what();
    }
}

} // namespace
