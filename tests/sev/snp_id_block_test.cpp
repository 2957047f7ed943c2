// The SNP ID block and ID auth (cvm/snp_id_block.hpp) against outside
// values: sev-snp-measure's published ID block and key digests for its test
// keys (tests/vectors/sev/idblock/PROVENANCE.md), and the signatures checked
// by OpenSSL directly from the bytes at the ABI's offsets (the openssl
// command line checks them again in cli_id_block_test.sh). Then the strict
// parser: every corruption refused with its offset.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/snp_id_block.hpp"
#include "test_paths.hpp"

using namespace cvm;
using namespace cvm::sev;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string kIdKey = "sev/idblock/id_key_test.pem";
const std::string kAuthorKey = "sev/idblock/author_key_test.pem";
// sev-snp-measure tests/test_id_block.py, base64 there (PROVENANCE.md).
const char* kPublishedLd =
    "076f052d08bda7a700aa2a608c5caa6b00ebad297b6d68a85a45b1e669a558b67e1b91d284a301fe63c4fa0750467eed";
const char* kPublishedIdBlock =
    "076f052d08bda7a700aa2a608c5caa6b00ebad297b6d68a85a45b1e669a558b67e1b91d284a301fe63c4fa0750467eed"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "01000000000000000000030000000000";
const char* kPublishedIdKeyDigest =
    "870b7e35c53f8a72d0d322f75ab2af8262792aaf6579622ce4131c3f21f289e77cb0560a5e3b90b3932e674ec709cb14";
const char* kPublishedAuthorKeyDigest =
    "63111c34bbfc0a4938f9a009bd074980d8172323e61599c9fd336da8673248e1dca98d0be8f76376a106b8afd4c0a057";

SnpIdBlock published_block() {
    SnpIdBlock b;
    auto ld = from_hex(kPublishedLd, "ld");
    std::copy(ld.begin(), ld.end(), b.launch_digest.begin());
    b.policy = 0x30000;
    return b;
}

// OpenSSL alone: the key's public point, and an ECDSA/SHA-384 check of a
// signature stored as 72-byte little-endian R and S at `sig`.
bool openssl_verifies(const std::string& pem, const std::uint8_t* sig, ByteSpan message) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ECDSA_SIG* ecdsa = ECDSA_SIG_new();
    ECDSA_SIG_set0(ecdsa, BN_lebin2bn(sig, 72, nullptr), BN_lebin2bn(sig + 72, 72, nullptr));
    unsigned char* der = nullptr;
    int der_size = i2d_ECDSA_SIG(ecdsa, &der);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = key && der_size > 0 && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha384(), nullptr, key) == 1 &&
              EVP_DigestVerify(ctx, der, static_cast<std::size_t>(der_size), message.data(), message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(ecdsa);
    EVP_PKEY_free(key);
    return ok;
}

// The key's X or Y, big-endian as OpenSSL gives it.
std::string coordinate_hex(const std::string& pem, const char* which) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key, which, &bn);
    std::vector<std::uint8_t> be(48);
    BN_bn2binpad(bn, be.data(), 48);
    BN_free(bn);
    EVP_PKEY_free(key);
    return to_hex(be);
}

std::string reversed_hex(ByteSpan le) { return to_hex(std::vector<std::uint8_t>(le.rbegin(), le.rend())); }

template <class F>
void expect_refused(F parse, const std::string& offset, const std::string& what) {
    try {
        parse();
        ADD_FAILURE() << "accepted; expected a refusal at " << offset << " (" << what << ")";
    } catch (const Error& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find(offset), std::string::npos) << m;
        EXPECT_NE(m.find(what), std::string::npos) << m;
    }
}

} // namespace

TEST(SnpIdBlock, PublishedBlockAndKeyDigests) {
    EXPECT_EQ(to_hex(write_snp_id_block(published_block())), kPublishedIdBlock);
    auto id = snp_public_key_from_pem(read_text(cvmtest::vector_path(kIdKey)), "id");
    auto author = snp_public_key_from_pem(read_text(cvmtest::vector_path(kAuthorKey)), "author");
    EXPECT_EQ(to_hex(snp_key_digest(id)), kPublishedIdKeyDigest);
    EXPECT_EQ(to_hex(snp_key_digest(author)), kPublishedAuthorKeyDigest);
    const auto signed_block = sign_snp_id_block(published_block(), read_text(cvmtest::vector_path(kIdKey)),
                                                read_text(cvmtest::vector_path(kAuthorKey)));
    EXPECT_EQ(to_hex(signed_block.id_block), kPublishedIdBlock);
    EXPECT_EQ(to_hex(signed_block.id_key_digest), kPublishedIdKeyDigest);
    ASSERT_TRUE(signed_block.author_key_digest);
    EXPECT_EQ(to_hex(*signed_block.author_key_digest), kPublishedAuthorKeyDigest);
}

TEST(SnpIdBlock, SignaturesVerifyWithOpenSslAtTheAbiOffsets) {
    const auto id_pem = read_text(cvmtest::vector_path(kIdKey));
    const auto author_pem = read_text(cvmtest::vector_path(kAuthorKey));
    const auto s = sign_snp_id_block(published_block(), id_pem, author_pem);
    const auto& a = s.id_auth;
    // Header words, written out from the ABI.
    EXPECT_EQ(to_hex(ByteSpan(a.data(), 8)), "0100000001000000");
    // ID_KEY at 0x240: curve 2, QX, QY little-endian.
    EXPECT_EQ(to_hex(ByteSpan(a.data() + 0x240, 4)), "02000000");
    EXPECT_EQ(reversed_hex(ByteSpan(a.data() + 0x244, 48)), coordinate_hex(id_pem, OSSL_PKEY_PARAM_EC_PUB_X));
    EXPECT_EQ(reversed_hex(ByteSpan(a.data() + 0x28c, 48)), coordinate_hex(id_pem, OSSL_PKEY_PARAM_EC_PUB_Y));
    EXPECT_EQ(reversed_hex(ByteSpan(a.data() + 0x884, 48)), coordinate_hex(author_pem, OSSL_PKEY_PARAM_EC_PUB_X));
    EXPECT_EQ(reversed_hex(ByteSpan(a.data() + 0x8cc, 48)), coordinate_hex(author_pem, OSSL_PKEY_PARAM_EC_PUB_Y));
    // The report's digests are SHA-384 of the bytes at 0x240 / 0x880.
    EXPECT_EQ(hash(HashAlgorithm::sha384, ByteSpan(a.data() + 0x240, 0x404)).hex(), kPublishedIdKeyDigest);
    EXPECT_EQ(hash(HashAlgorithm::sha384, ByteSpan(a.data() + 0x880, 0x404)).hex(), kPublishedAuthorKeyDigest);
    // ID_BLOCK_SIG at 0x40 over the 96 bytes; ID_KEY_SIG at 0x680 over ID_KEY.
    EXPECT_TRUE(openssl_verifies(id_pem, a.data() + 0x40, s.id_block));
    EXPECT_TRUE(openssl_verifies(author_pem, a.data() + 0x680, ByteSpan(a.data() + 0x240, 0x404)));
    EXPECT_FALSE(openssl_verifies(author_pem, a.data() + 0x40, s.id_block));
    auto other = s.id_block;
    other[0x54] ^= 1;  // GUEST_SVN
    EXPECT_FALSE(openssl_verifies(id_pem, a.data() + 0x40, other));
}

TEST(SnpIdBlock, CheckSignaturesCatchesEachChange) {
    const auto s = sign_snp_id_block(published_block(), read_text(cvmtest::vector_path(kIdKey)),
                                     read_text(cvmtest::vector_path(kAuthorKey)));
    const auto auth = parse_snp_id_auth(s.id_auth, "auth");
    ASSERT_TRUE(auth.has_author_key());
    EXPECT_EQ(check_snp_id_signatures(s.id_block, auth, true), "");
    for (std::size_t i : {std::size_t{0}, std::size_t{0x30}, std::size_t{0x58}}) {
        auto block = s.id_block;
        block[i] ^= 0x80;
        EXPECT_NE(check_snp_id_signatures(block, auth, true).find("ID_BLOCK_SIG"), std::string::npos) << i;
    }
    auto bad = auth;
    bad.id_key_sig.s[0] ^= 1;
    EXPECT_EQ(check_snp_id_signatures(s.id_block, bad, false), "");  // AUTHOR_KEY_EN 0: not read
    EXPECT_NE(check_snp_id_signatures(s.id_block, bad, true).find("ID_KEY_SIG"), std::string::npos);

    // Without an author key: AUTH_KEY_ALGO 0 and both author fields zero.
    const auto alone = sign_snp_id_block(published_block(), read_text(cvmtest::vector_path(kIdKey)), std::nullopt);
    EXPECT_FALSE(alone.author_key_digest);
    EXPECT_EQ(to_hex(ByteSpan(alone.id_auth.data() + 4, 4)), "00000000");
    for (std::size_t i = 0x680; i < 0xc84; ++i) ASSERT_EQ(alone.id_auth[i], 0) << i;
    const auto alone_auth = parse_snp_id_auth(alone.id_auth, "auth");
    EXPECT_EQ(check_snp_id_signatures(alone.id_block, alone_auth, false), "");
    EXPECT_NE(check_snp_id_signatures(alone.id_block, alone_auth, true), "");
}

TEST(SnpIdBlock, ParsersRefuseCorruptionsWithTheirOffset) {
    const auto s = sign_snp_id_block(published_block(), read_text(cvmtest::vector_path(kIdKey)),
                                     read_text(cvmtest::vector_path(kAuthorKey)));
    const auto block = parse_snp_id_block(s.id_block, "b");
    EXPECT_EQ(block.policy, 0x30000u);
    EXPECT_EQ(block.version, 1u);
    EXPECT_EQ(write_snp_id_auth(parse_snp_id_auth(s.id_auth, "a")), s.id_auth);  // round trip

    auto block_with = [&](std::size_t at, std::uint8_t v) {
        auto b = std::vector<std::uint8_t>(s.id_block.begin(), s.id_block.end());
        b[at] = v;
        return b;
    };
    expect_refused([&] { parse_snp_id_block(ByteSpan(s.id_block.data(), 95), "b.bin"); }, "b.bin", "96 bytes");
    expect_refused([&] { parse_snp_id_block(block_with(0x50, 2), "b.bin"); }, "0x50", "VERSION");

    auto auth_with = [&](std::size_t at, std::uint8_t v) {
        auto a = std::vector<std::uint8_t>(s.id_auth.begin(), s.id_auth.end());
        a[at] = v;
        return a;
    };
    struct Case {
        std::size_t at;
        std::uint8_t value;
        const char* offset;
        const char* what;
    };
    const Case cases[] = {
        {0x00, 2, "offset 0x0", "ID_KEY_ALGO"},
        {0x04, 3, "offset 0x4", "AUTH_KEY_ALGO"},
        {0x08, 1, "offset 0x8", "reserved"},
        {0x40 + 48, 1, "offset 0x70", "ID_BLOCK_SIG R above 384 bits"},
        {0x40 + 0x48 + 71, 1, "offset 0xcf", "ID_BLOCK_SIG S above 384 bits"},
        {0x40 + 0x90, 1, "offset 0xd0", "ID_BLOCK_SIG reserved"},
        {0x240, 3, "offset 0x240", "ID_KEY CURVE"},
        {0x244 + 50, 1, "offset 0x276", "ID_KEY QX above 384 bits"},
        {0x240 + 0x94, 1, "offset 0x2d4", "ID_KEY reserved"},
        {0x650, 1, "offset 0x650", "reserved"},
        {0x880, 1, "offset 0x880", "AUTHOR_KEY CURVE"},
        {0xfff, 1, "offset 0xfff", "reserved"},
    };
    for (const auto& c : cases)
        expect_refused([&] { parse_snp_id_auth(auth_with(c.at, c.value), "a.bin"); }, c.offset, c.what);
    expect_refused([&] { parse_snp_id_auth(ByteSpan(s.id_auth.data(), 4095), "a.bin"); }, "a.bin", "4096 bytes");
    // AUTH_KEY_ALGO 0 with an author key left in place: refused, not ignored.
    expect_refused([&] { parse_snp_id_auth(auth_with(0x04, 0), "a.bin"); }, "offset 0x680", "AUTH_KEY_ALGO 0");
}

TEST(SnpIdBlock, OnlyP384Keys) {
    EVP_PKEY* p256 = EVP_EC_gen("prime256v1");
    ASSERT_NE(p256, nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, p256, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    const std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    EVP_PKEY_free(p256);
    expect_refused([&] { sign_snp_id_block(published_block(), pem, std::nullopt); }, "the ID key", "P-384");
    expect_refused([&] { snp_public_key_from_pem("not a key", "k.pem"); }, "k.pem", "not a PEM");
}
