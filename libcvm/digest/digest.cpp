#include "cvm/digest.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <optional>
#include <utility>

// The SHA-2 functions are deprecated in OpenSSL 3 in favour of EVP, which
// costs more per call than the predictors' small hashes (Hasher::Context).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/payload_chunks.hpp"
#include "libcvm/digest/payload_digests.hpp"

namespace cvm {
namespace {

[[noreturn]] void openssl_failure(const char* what) {
    throw Error(fmt::format("OpenSSL {} failed", what));
}

} // namespace

std::string_view to_string(HashAlgorithm algorithm) {
    switch (algorithm) {
    case HashAlgorithm::sha256: return "sha256";
    case HashAlgorithm::sha384: return "sha384";
    case HashAlgorithm::sha512: return "sha512";
    }
    return "?";
}

HashAlgorithm parse_hash_algorithm(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "sha256") return HashAlgorithm::sha256;
    if (lower == "sha384") return HashAlgorithm::sha384;
    if (lower == "sha512") return HashAlgorithm::sha512;
    throw Error(fmt::format("unknown hash algorithm '{}': expected sha256, sha384 or sha512", name));
}

std::size_t digest_size(HashAlgorithm algorithm) {
    switch (algorithm) {
    case HashAlgorithm::sha256: return 32;
    case HashAlgorithm::sha384: return 48;
    case HashAlgorithm::sha512: return 64;
    }
    return 0;
}

HashAlgorithm algorithm_of_digest_size(std::size_t size) {
    for (auto algorithm : {HashAlgorithm::sha256, HashAlgorithm::sha384, HashAlgorithm::sha512})
        if (digest_size(algorithm) == size) return algorithm;
    throw Error(fmt::format("a digest of {} bytes: expected 32 (SHA-256), 48 (SHA-384) or 64 (SHA-512)", size));
}

Digest::Digest(HashAlgorithm algorithm, ByteSpan bytes) : algorithm_(algorithm) {
    if (bytes.size() != digest_size(algorithm))
        throw Error(fmt::format("a {} digest has {} bytes, not {}", to_string(algorithm),
                                digest_size(algorithm), bytes.size()));
    std::copy(bytes.begin(), bytes.end(), data_.begin());
    size_ = bytes.size();
}

Digest Digest::zero(HashAlgorithm algorithm) {
    std::array<std::uint8_t, 64> zeros{};
    return Digest(algorithm, ByteSpan(zeros.data(), digest_size(algorithm)));
}

std::string Digest::hex() const { return to_hex(bytes()); }

bool Digest::operator==(const Digest& other) const noexcept {
    return algorithm_ == other.algorithm_ && size_ == other.size_ &&
           std::equal(data_.begin(), data_.begin() + size_, other.data_.begin());
}

// SHA-2 through OpenSSL's digest functions themselves, not EVP. The
// predictors hash one 4 KiB page, then chain a 100-byte record, a quarter
// of a million times for a 1 GiB payload: EVP's provider dispatch per call
// costs more than the record's hash, and a process's first EVP digest
// builds OpenSSL's whole name map (about 3.5 M instructions, a third of a
// short prediction). The block functions are the same (SHA-NI, AVX2), and
// the digest tests compare every result with EVP's.
struct Hasher::Context {
    HashAlgorithm algorithm;
    union {
        SHA256_CTX sha256;
        SHA512_CTX sha512;  // SHA-384 too: the same state, other initial values
    };

    explicit Context(HashAlgorithm a) : algorithm(a) { reset(); }
    ~Context() { OPENSSL_cleanse(this, sizeof *this); }

    void reset() {
        switch (algorithm) {
        case HashAlgorithm::sha256: SHA256_Init(&sha256); return;
        case HashAlgorithm::sha384: SHA384_Init(&sha512); return;
        case HashAlgorithm::sha512: SHA512_Init(&sha512); return;
        }
        throw Error("unknown hash algorithm");
    }
    void update(const std::uint8_t* data, std::size_t size) {
        if (algorithm == HashAlgorithm::sha256) SHA256_Update(&sha256, data, size);
        else SHA512_Update(&sha512, data, size);  // SHA384_Update is the same function
    }
    void final(std::uint8_t* out) {
        switch (algorithm) {
        case HashAlgorithm::sha256: SHA256_Final(out, &sha256); return;
        case HashAlgorithm::sha384: SHA384_Final(out, &sha512); return;
        case HashAlgorithm::sha512: SHA512_Final(out, &sha512); return;
        }
    }
};

Hasher::Hasher(HashAlgorithm algorithm) : algorithm_(algorithm), ctx_(std::make_unique<Context>(algorithm)) {}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

Hasher& Hasher::update(ByteSpan bytes) {
    if (!bytes.empty()) ctx_->update(bytes.data(), bytes.size());
    return *this;
}

Hasher& Hasher::update(std::string_view text) {
    return update(ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Hasher& Hasher::update_le64(std::uint64_t value) {
    std::uint8_t le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<std::uint8_t>(value >> (8 * i));
    return update(ByteSpan(le, 8));
}

Hasher& Hasher::update_le32(std::uint32_t value) {
    std::uint8_t le[4];
    for (int i = 0; i < 4; ++i) le[i] = static_cast<std::uint8_t>(value >> (8 * i));
    return update(ByteSpan(le, 4));
}

Digest Hasher::finish() {
    std::uint8_t out[64];
    ctx_->final(out);
    ctx_->reset();
    return Digest(algorithm_, ByteSpan(out, digest_size(algorithm_)));
}

Digest hash(HashAlgorithm algorithm, ByteSpan bytes) {
    // One context per thread and algorithm, reset by finish() rather than
    // allocated per call: the measurement chains call this once per granule.
    thread_local std::array<std::optional<Hasher>, 3> contexts;
    auto& context = contexts.at(static_cast<std::size_t>(algorithm));
    if (!context) context.emplace(algorithm);
    return context->update(bytes).finish();
}

std::vector<Digest> hash(const std::vector<HashAlgorithm>& algorithms, const Payload& payload) {
    // The digests not remembered yet are computed in one pass over the bytes.
    PayloadDigests digests(payload, algorithms);
    if (digests.pending()) {
        constexpr std::size_t kChunk = 4u << 20;
        if (!payload.streams() && payload.size() <= kChunk) digests.update(payload.bytes());
        else for_each_chunk(payload, kChunk, [&](std::size_t, ByteSpan bytes) { digests.update(bytes); });
    }
    return digests.finish();
}

Digest hash(HashAlgorithm algorithm, const Payload& payload) {
    return hash(std::vector<HashAlgorithm>{algorithm}, payload).front();
}

struct Hmac::Context {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    ~Context() {
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
    }
};

Hmac::Hmac(HashAlgorithm algorithm, ByteSpan key)
    : algorithm_(algorithm), ctx_(std::make_unique<Context>()) {
    if (!ctx_->ctx) openssl_failure("HMAC fetch");
    std::string md(to_string(algorithm));
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, md.data(), 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx_->ctx, key.data(), key.size(), params) != 1) openssl_failure("HMAC init");
}

Hmac::~Hmac() = default;

Hmac& Hmac::update(ByteSpan bytes) {
    if (!bytes.empty() && EVP_MAC_update(ctx_->ctx, bytes.data(), bytes.size()) != 1)
        openssl_failure("HMAC update");
    return *this;
}

Digest Hmac::finish() {
    std::uint8_t out[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    if (EVP_MAC_final(ctx_->ctx, out, &len, sizeof out) != 1) openssl_failure("HMAC final");
    return Digest(algorithm_, ByteSpan(out, len));
}

Digest hmac(HashAlgorithm algorithm, ByteSpan key, ByteSpan bytes) {
    return Hmac(algorithm, key).update(bytes).finish();
}

std::string to_hex(ByteSpan bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text(bytes.size() * 2, '0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        text[2 * i] = digits[bytes[i] >> 4];
        text[2 * i + 1] = digits[bytes[i] & 15];
    }
    return text;
}

std::vector<std::uint8_t> from_hex(std::string_view hex, std::string_view what) {
    auto nibble = [&](char c, std::size_t pos) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw Error(fmt::format("{}: character {} is '{}', expected a hex digit", what, pos, c));
    };
    if (hex.size() % 2 != 0)
        throw Error(fmt::format("{}: {} hex digits, expected an even number", what, hex.size()));
    std::vector<std::uint8_t> bytes(hex.size() / 2);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<std::uint8_t>(nibble(hex[2 * i], 2 * i) << 4 |
                                             nibble(hex[2 * i + 1], 2 * i + 1));
    return bytes;
}

} // namespace cvm
