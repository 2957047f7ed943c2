// Digests and HMAC against the published test vectors of FIPS 180-4
// (examples "abc") and RFC 4231 (HMAC-SHA-2), and every length around the
// block and padding boundaries against OpenSSL's EVP interface (libcvm
// hashes through the SHA-2 functions directly, a different path).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

#include "cvm/digest.hpp"
#include "cvm/error.hpp"

using namespace cvm;

namespace {

ByteSpan text(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

TEST(Digest, Fips180AbcVectors) {
    EXPECT_EQ(hash(HashAlgorithm::sha256, text("abc")).hex(),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hash(HashAlgorithm::sha384, text("abc")).hex(),
              "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
              "8086072ba1e7cc2358baeca134c825a7");
    EXPECT_EQ(hash(HashAlgorithm::sha512, text("abc")).hex(),
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(Digest, StreamingEqualsOneShot) {
    std::string data(100000, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
    for (auto algorithm : {HashAlgorithm::sha256, HashAlgorithm::sha384, HashAlgorithm::sha512}) {
        Hasher h(algorithm);
        for (std::size_t at = 0; at < data.size(); at += 4093)
            h.update(text(data).subspan(at, std::min<std::size_t>(4093, data.size() - at)));
        EXPECT_EQ(h.finish(), hash(algorithm, text(data)));
        // finish() resets: the hasher is reusable.
        EXPECT_EQ(h.update(text("abc")).finish(), hash(algorithm, text("abc")));
    }
}

TEST(Digest, EveryLengthAroundTheBlocksEqualsEvp) {
    // Lengths 0..300 cross SHA-256's 55/56-byte and SHA-512's 111/112-byte
    // padding boundaries and several blocks; each is fed in two uneven
    // parts through one reused hasher.
    std::string data(300, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 97 + 11);
    const std::pair<HashAlgorithm, const EVP_MD*> pairs[] = {
        {HashAlgorithm::sha256, EVP_sha256()}, {HashAlgorithm::sha384, EVP_sha384()}, {HashAlgorithm::sha512, EVP_sha512()}};
    for (const auto& [algorithm, md] : pairs) {
        Hasher h(algorithm);
        for (std::size_t n = 0; n <= data.size(); ++n) {
            std::uint8_t want[EVP_MAX_MD_SIZE];
            unsigned len = 0;
            ASSERT_EQ(EVP_Digest(data.data(), n, want, &len, md, nullptr), 1);
            const std::size_t cut = n / 3;
            Digest got = h.update(text(data).subspan(0, cut)).update(text(data).subspan(cut, n - cut)).finish();
            ASSERT_EQ(got.hex(), to_hex(ByteSpan(want, len))) << to_string(algorithm) << " of " << n << " bytes";
            ASSERT_EQ(hash(algorithm, text(data).subspan(0, n)), got);
        }
    }
}

TEST(Digest, HmacRfc4231Case2) {
    std::string key = "Jefe", data = "what do ya want for nothing?";
    EXPECT_EQ(hmac(HashAlgorithm::sha256, text(key), text(data)).hex(),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hmac(HashAlgorithm::sha384, text(key), text(data)).hex(),
              "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
              "8e2240ca5e69e2c78b3239ecfab21649");
    EXPECT_EQ(hmac(HashAlgorithm::sha512, text(key), text(data)).hex(),
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
              "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

TEST(Digest, HmacRfc4231Case1Streaming) {
    std::vector<std::uint8_t> key(20, 0x0b);
    Hmac mac(HashAlgorithm::sha256, key);
    mac.update(text("Hi ")).update(text("There"));
    EXPECT_EQ(mac.finish().hex(), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(Digest, HexRoundTripAndErrors) {
    auto bytes = from_hex("00ff10Ab", "test");
    EXPECT_EQ(to_hex(bytes), "00ff10ab");
    try {
        from_hex("0g", "--rpv");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--rpv: character 1 is 'g'"), std::string::npos) << e.what();
    }
    EXPECT_THROW(from_hex("abc", "x"), Error);
    EXPECT_THROW(parse_hash_algorithm("md5"), Error);
    EXPECT_EQ(parse_hash_algorithm("SHA384"), HashAlgorithm::sha384);
}

} // namespace

// RFC 4648 section 10's test vectors, both ways; the decoder is strict.
TEST(Base64, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        const std::string text(plain);
        const ByteSpan bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
        EXPECT_EQ(to_base64(bytes), encoded) << plain;
        auto decoded = from_base64(encoded, "test");
        EXPECT_EQ(std::string(decoded.begin(), decoded.end()), text) << encoded;
    }
    for (const char* bad : {"Zg", "Zg=", "Z===", "Zh==", "Zm9v\n", "Zm 9", "=Zm9", "Zg==Zm9v"})
        EXPECT_THROW(from_base64(bad, "test"), Error) << bad;
}
