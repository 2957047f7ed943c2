#include "cvm/sev_owner.hpp"

#include "backends/amd-sev/pem_keys.hpp"

#include <array>
#include <memory>
#include <span>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::sev {
namespace {

void put_le32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::array<std::uint8_t, 32> hmac256(ByteSpan key, ByteSpan message) {
    Digest d = hmac(HashAlgorithm::sha256, key, message);
    std::array<std::uint8_t, 32> out{};
    std::copy(d.bytes().begin(), d.bytes().end(), out.begin());
    return out;
}

void require_size(ByteSpan bytes, std::size_t size, const char* what) {
    if (bytes.size() != size)
        throw Error(fmt::format("{}: {} bytes, expected {}", what, bytes.size(), size), 0, what);
}

struct CtxFree { void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); } };
struct CipherFree { void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); } };


} // namespace

TransportKeys::~TransportKeys() {
    OPENSSL_cleanse(tek.data(), tek.size());
    OPENSSL_cleanse(tik.data(), tik.size());
}

TransportKeys TransportKeys::random() {
    TransportKeys keys;
    if (RAND_bytes(keys.tek.data(), static_cast<int>(keys.tek.size())) != 1 ||
        RAND_bytes(keys.tik.data(), static_cast<int>(keys.tik.size())) != 1)
        throw Error("the random number generator failed");
    return keys;
}

std::array<std::uint8_t, 32> launch_measure_mac(const Key128& tik, PlatformVersion version, std::uint32_t policy,
                                                ByteSpan launch_digest, ByteSpan mnonce) {
    require_size(launch_digest, 32, "launch digest");
    require_size(mnonce, 16, "mnonce");
    std::vector<std::uint8_t> message{0x04, version.api_major, version.api_minor, version.build};
    put_le32(message, policy);
    message.insert(message.end(), launch_digest.begin(), launch_digest.end());
    message.insert(message.end(), mnonce.begin(), mnonce.end());
    return hmac256(tik, message);
}

bool verify_launch_measure(const Key128& tik, PlatformVersion version, std::uint32_t policy, ByteSpan launch_digest,
                           ByteSpan blob) {
    require_size(blob, 48, "LAUNCH_MEASURE blob");
    auto expected = launch_measure_mac(tik, version, policy, launch_digest, blob.subspan(32, 16));
    return CRYPTO_memcmp(expected.data(), blob.data(), expected.size()) == 0;
}

std::vector<std::uint8_t> aes128_ctr(const Key128& key, const Key128& iv, ByteSpan data) {
    std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
    std::vector<std::uint8_t> out(data.size());
    int n = 0, tail = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, key.data(), iv.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data(), &n, data.data(), static_cast<int>(data.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &tail) != 1)
        throw Error("AES-128-CTR failed");
    return out;
}

void check_launch_secret(ByteSpan secret) {
    if (secret.empty() || secret.size() % 16 != 0 || secret.size() > kMaxLaunchSecretBytes)
        throw Error(fmt::format("a LAUNCH_SECRET payload is a positive multiple of 16 bytes up to {} (the kernel's "
                                "SEV_FW_BLOB_MAX_SIZE), not {}",
                                kMaxLaunchSecretBytes, secret.size()));
}

SecretPacket make_secret_packet(const TransportKeys& keys, ByteSpan measure, ByteSpan secret, std::uint32_t flags,
                                const Key128& iv) {
    require_size(measure, 32, "MEASURE");
    check_launch_secret(secret);
    SecretPacket packet;
    packet.ciphertext = aes128_ctr(keys.tek, iv, secret);
    std::vector<std::uint8_t> message{0x01};
    put_le32(message, flags);
    message.insert(message.end(), iv.begin(), iv.end());
    put_le32(message, static_cast<std::uint32_t>(secret.size()));
    put_le32(message, static_cast<std::uint32_t>(packet.ciphertext.size()));
    message.insert(message.end(), packet.ciphertext.begin(), packet.ciphertext.end());
    message.insert(message.end(), measure.begin(), measure.end());
    auto mac = hmac256(keys.tik, message);
    le::write<std::uint32_t>(packet.header, 0, flags);
    std::copy(iv.begin(), iv.end(), packet.header.begin() + 4);
    std::copy(mac.begin(), mac.end(), packet.header.begin() + 20);
    return packet;
}

Key128 sev_kdf(ByteSpan key, std::string_view label, ByteSpan context) {
    std::vector<std::uint8_t> message;
    put_le32(message, 1);
    message.insert(message.end(), label.begin(), label.end());
    message.push_back(0);
    message.insert(message.end(), context.begin(), context.end());
    put_le32(message, 128);
    auto block = hmac256(key, message);
    Key128 out{};
    std::copy(block.begin(), block.begin() + 16, out.begin());
    OPENSSL_cleanse(block.data(), block.size());
    return out;
}

std::array<std::uint8_t, 128> make_launch_session(const TransportKeys& keys, ByteSpan shared_secret,
                                                  std::uint32_t policy, const Key128& nonce, const Key128& wrap_iv) {
    if (shared_secret.empty()) throw Error("the ECDH shared secret is empty");
    // Every copy of key material is wiped on every path, the error ones too
    // (a throwing HMAC or cipher call must not leave the KEK behind).
    Key128 master{}, kek{}, kik{};
    std::array<std::uint8_t, 32> tks{};  // TEK || TIK, fixed size: no regrowth leaves a stray copy
    struct Wipe {
        std::array<std::span<std::uint8_t>, 4> parts;
        ~Wipe() {
            for (auto p : parts) OPENSSL_cleanse(p.data(), p.size());
        }
    } wipe{{master, kek, kik, tks}};
    master = sev_kdf(shared_secret, "sev-master-secret", nonce);
    kek = sev_kdf(master, "sev-kek", {});
    kik = sev_kdf(master, "sev-kik", {});
    std::copy(keys.tek.begin(), keys.tek.end(), tks.begin());
    std::copy(keys.tik.begin(), keys.tik.end(), tks.begin() + 16);
    auto wrapped = aes128_ctr(kek, wrap_iv, tks);
    auto wrap_mac = hmac256(kik, wrapped);
    std::vector<std::uint8_t> policy_bytes;
    put_le32(policy_bytes, policy);
    auto policy_mac = hmac256(keys.tik, policy_bytes);

    std::array<std::uint8_t, 128> blob{};
    auto at = blob.begin();
    at = std::copy(nonce.begin(), nonce.end(), at);
    at = std::copy(wrapped.begin(), wrapped.end(), at);
    at = std::copy(wrap_iv.begin(), wrap_iv.end(), at);
    at = std::copy(wrap_mac.begin(), wrap_mac.end(), at);
    std::copy(policy_mac.begin(), policy_mac.end(), at);
    return blob;
}

std::vector<std::uint8_t> ecdh_p384(const std::string& private_pem, const std::string& peer_public_pem) {
    auto ours = read_pem_key(private_pem, true, "our ECDH key");
    auto theirs = read_pem_key(peer_public_pem, false, "the peer's ECDH key");
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(ours.get(), nullptr));
    std::size_t length = 0;
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
        EVP_PKEY_derive(ctx.get(), nullptr, &length) != 1)
        throw Error("ECDH key agreement failed (are both keys on P-384?)");
    std::vector<std::uint8_t> z(length);
    if (EVP_PKEY_derive(ctx.get(), z.data(), &length) != 1) throw Error("ECDH key agreement failed");
    if (length != 48) throw Error(fmt::format("ECDH gave {} bytes; P-384 gives 48", length));
    return z;
}

} // namespace cvm::sev
