// The guest owner's tools against the HMAC vectors of
// tests/vectors/sev/README.md (4.1) and against computations written
// here directly over OpenSSL from the documented formulas.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cvm/sev_owner.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"

using namespace cvm;
using namespace cvm::sev;

namespace {

Key128 key_from_hex(const std::string& hex) {
    auto bytes = from_hex(hex, "key");
    Key128 key{};
    std::copy(bytes.begin(), bytes.end(), key.begin());
    return key;
}

std::vector<std::uint8_t> openssl_hmac(ByteSpan key, ByteSpan message) {
    std::vector<std::uint8_t> out(32);
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(), out.data(), &length);
    return out;
}

std::vector<std::uint8_t> openssl_ctr(ByteSpan key, ByteSpan iv, ByteSpan data) {
    std::vector<std::uint8_t> out(data.size());
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    EVP_DecryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, key.data(), iv.data());
    EVP_DecryptUpdate(ctx, out.data(), &n, data.data(), static_cast<int>(data.size()));
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

TEST(GuestOwner, LaunchMeasureVirteeVector) {
    auto tik = key_from_hex("66320db73158a35a255d051758e95ed4");
    auto digest = from_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "ld");
    auto mnonce = from_hex("4fbe0bedbad6c86ae8f68971d103e554", "mnonce");
    auto mac = launch_measure_mac(tik, {0, 18, 15}, 0, digest, mnonce);
    EXPECT_EQ(to_hex(mac), "6faab2daae389bcd3405a05d6cafe33c0414f7bedd0bae19ba5f38b7fd1664ea");
}

TEST(GuestOwner, LaunchMeasureProjectVectorVerifies) {
    auto tik = key_from_hex("000102030405060708090a0b0c0d0e0f");
    auto digest = from_hex("6bb8e4821dfc8c07af6eb44653af6f3115864d5715148759da099606e80fdd3b", "ld");
    auto blob = from_hex("cb29014d14420b574d027a193760be7ad8a1670841553869a99f7660a99a583b"
                         "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "blob");
    EXPECT_TRUE(verify_launch_measure(tik, {1, 55, 21}, 0x1, digest, blob));
    EXPECT_FALSE(verify_launch_measure(tik, {1, 55, 21}, 0x3, digest, blob));  // another policy
    EXPECT_FALSE(verify_launch_measure(tik, {1, 55, 22}, 0x1, digest, blob));  // another build
    blob[47] ^= 1;
    EXPECT_FALSE(verify_launch_measure(tik, {1, 55, 21}, 0x1, digest, blob));  // another mnonce
    EXPECT_THROW(verify_launch_measure(tik, {1, 55, 21}, 0x1, digest, ByteSpan(blob).first(47)), Error);
}

TEST(GuestOwner, SecretPacketMatchesTheFormula) {
    TransportKeys keys;
    keys.tek = key_from_hex("101112131415161718191a1b1c1d1e1f");
    keys.tik = key_from_hex("202122232425262728292a2b2c2d2e2f");
    auto iv = key_from_hex("303132333435363738393a3b3c3d3e3f");
    auto measure = from_hex("cb29014d14420b574d027a193760be7ad8a1670841553869a99f7660a99a583b", "m");
    std::vector<std::uint8_t> secret(48);
    for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(i * 5);
    auto packet = make_secret_packet(keys, measure, secret, 0, iv);

    EXPECT_EQ(openssl_ctr(keys.tek, iv, packet.ciphertext), secret);
    std::vector<std::uint8_t> message{0x01, 0, 0, 0, 0};
    message.insert(message.end(), iv.begin(), iv.end());
    message.insert(message.end(), {48, 0, 0, 0, 48, 0, 0, 0});
    message.insert(message.end(), packet.ciphertext.begin(), packet.ciphertext.end());
    message.insert(message.end(), measure.begin(), measure.end());
    std::vector<std::uint8_t> header(4, 0);
    header.insert(header.end(), iv.begin(), iv.end());
    auto mac = openssl_hmac(keys.tik, message);
    header.insert(header.end(), mac.begin(), mac.end());
    EXPECT_EQ(std::vector<std::uint8_t>(packet.header.begin(), packet.header.end()), header);
    EXPECT_THROW(make_secret_packet(keys, measure, ByteSpan(secret).first(17), 0, iv), Error);
}

TEST(GuestOwner, ASecretLargerThanTheKernelCopiesIsRefused) {
    // psp_copy_user_blob refuses more than SEV_FW_BLOB_MAX_SIZE, 16 KiB
    // (include/linux/psp-sev.h): such a packet could never be injected.
    TransportKeys keys;
    keys.tek = key_from_hex("101112131415161718191a1b1c1d1e1f");
    keys.tik = key_from_hex("202122232425262728292a2b2c2d2e2f");
    auto iv = key_from_hex("303132333435363738393a3b3c3d3e3f");
    std::vector<std::uint8_t> measure(32, 0x5a);
    std::vector<std::uint8_t> secret(16 * 1024 + 16, 0x33);
    EXPECT_EQ(make_secret_packet(keys, measure, ByteSpan(secret).first(16 * 1024), 0, iv).ciphertext.size(), 16u * 1024);
    EXPECT_THROW(make_secret_packet(keys, measure, secret, 0, iv), Error);
    // The owner's reply refuses it before it looks at the launch.
    SecretRequest request;
    request.policy = 0x1;
    std::vector<std::uint8_t> digest(32, 0);
    EXPECT_THROW(answer_secret_request(request, keys, digest, 0x1, secret), Error);
    EXPECT_EQ(answer_secret_request(request, keys, digest, 0x1, ByteSpan(secret).first(32)).action,
              SecretReply::Action::abort);
}

// SP 800-108 counter mode, one block, written out here from the spec.
std::vector<std::uint8_t> kdf16(ByteSpan key, std::string_view label, ByteSpan context) {
    std::vector<std::uint8_t> m{1, 0, 0, 0};
    m.insert(m.end(), label.begin(), label.end());
    m.push_back(0);
    m.insert(m.end(), context.begin(), context.end());
    m.insert(m.end(), {128, 0, 0, 0});
    auto block = openssl_hmac(key, m);
    block.resize(16);
    return block;
}

TEST(GuestOwner, LaunchSessionUnwrapsToTheTransportKeys) {
    TransportKeys keys;
    keys.tek = key_from_hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    keys.tik = key_from_hex("b0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    auto nonce = key_from_hex("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf");
    auto iv = key_from_hex("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf");
    std::vector<std::uint8_t> z(48);
    for (std::size_t i = 0; i < z.size(); ++i) z[i] = static_cast<std::uint8_t>(0x40 + i);
    auto blob = make_launch_session(keys, z, 0x5, nonce, iv);

    auto master = kdf16(z, "sev-master-secret", nonce);
    auto kek = kdf16(master, "sev-kek", {});
    auto kik = kdf16(master, "sev-kik", {});
    ByteSpan b(blob);
    EXPECT_EQ(std::vector<std::uint8_t>(b.begin(), b.begin() + 16), std::vector<std::uint8_t>(nonce.begin(), nonce.end()));
    auto tks = openssl_ctr(kek, iv, b.subspan(16, 32));
    EXPECT_EQ(std::vector<std::uint8_t>(tks.begin(), tks.begin() + 16), std::vector<std::uint8_t>(keys.tek.begin(), keys.tek.end()));
    EXPECT_EQ(std::vector<std::uint8_t>(tks.begin() + 16, tks.end()), std::vector<std::uint8_t>(keys.tik.begin(), keys.tik.end()));
    EXPECT_EQ(std::vector<std::uint8_t>(b.begin() + 48, b.begin() + 64), std::vector<std::uint8_t>(iv.begin(), iv.end()));
    EXPECT_EQ(std::vector<std::uint8_t>(b.begin() + 64, b.begin() + 96), openssl_hmac(kik, b.subspan(16, 32)));
    std::uint8_t policy[4] = {5, 0, 0, 0};
    EXPECT_EQ(std::vector<std::uint8_t>(b.begin() + 96, b.end()), openssl_hmac(keys.tik, policy));
}

TEST(GuestOwner, TransportKeysAreWiped) {
    alignas(TransportKeys) unsigned char storage[sizeof(TransportKeys)];
    auto* keys = new (storage) TransportKeys(TransportKeys::random());
    keys->~TransportKeys();
    for (unsigned char c : storage) EXPECT_EQ(c, 0);
}

} // namespace
