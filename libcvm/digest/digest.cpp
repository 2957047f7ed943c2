#include "cvm/digest.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <optional>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/payload_chunks.hpp"

namespace cvm {
namespace {

// Each implementation is fetched once: given the legacy EVP_sha256()
// handle, OpenSSL 3 fetches the implementation again at every digest init
// (a lock and a lookup per 4 KiB granule on the predictors' paths). A
// fetched EVP_MD may be shared by threads. Kept for the process's life.
const EVP_MD* fetched(const char* name, const EVP_MD* legacy) {
    const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
    return md ? md : legacy;
}

const EVP_MD* evp_md(HashAlgorithm algorithm) {
    static const EVP_MD* const sha256 = fetched("SHA2-256", EVP_sha256());
    static const EVP_MD* const sha384 = fetched("SHA2-384", EVP_sha384());
    static const EVP_MD* const sha512 = fetched("SHA2-512", EVP_sha512());
    switch (algorithm) {
    case HashAlgorithm::sha256: return sha256;
    case HashAlgorithm::sha384: return sha384;
    case HashAlgorithm::sha512: return sha512;
    }
    throw Error("unknown hash algorithm");
}

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

struct Hasher::Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(HashAlgorithm algorithm) : algorithm_(algorithm), ctx_(std::make_unique<Context>()) {
    if (!ctx_->ctx || EVP_DigestInit_ex(ctx_->ctx, evp_md(algorithm), nullptr) != 1)
        openssl_failure("digest init");
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

Hasher& Hasher::update(ByteSpan bytes) {
    if (!bytes.empty() && EVP_DigestUpdate(ctx_->ctx, bytes.data(), bytes.size()) != 1)
        openssl_failure("digest update");
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
    std::uint8_t out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_->ctx, out, &len) != 1) openssl_failure("digest final");
    if (EVP_DigestInit_ex(ctx_->ctx, evp_md(algorithm_), nullptr) != 1)
        openssl_failure("digest init");
    return Digest(algorithm_, ByteSpan(out, len));
}

Digest hash(HashAlgorithm algorithm, ByteSpan bytes) {
    // One context per thread and algorithm, reset rather than reallocated:
    // the measurement chains call this once per granule or page.
    thread_local std::array<std::optional<Hasher>, 3> contexts;
    auto& context = contexts.at(static_cast<std::size_t>(algorithm));
    if (!context) context.emplace(algorithm);
    try {
        return context->update(bytes).finish();
    } catch (...) {
        context.reset();  // never reuse a context left mid-digest
        throw;
    }
}

Digest hash(HashAlgorithm algorithm, const Payload& payload) {
    constexpr std::size_t kChunk = 4u << 20;
    if (!payload.streams() && payload.size() <= kChunk) return hash(algorithm, payload.bytes());
    Hasher h(algorithm);
    for_each_chunk(payload, kChunk, [&](std::size_t, ByteSpan bytes) { h.update(bytes); });
    return h.finish();
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
