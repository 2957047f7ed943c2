// Streaming hashes and HMAC over OpenSSL's EVP interface.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <string_view>

#include "cvm/bytes.hpp"

namespace cvm {

enum class HashAlgorithm { sha256, sha384, sha512 };

std::string_view to_string(HashAlgorithm algorithm);
// Accepts "sha256", "sha384", "sha512" (case-insensitive); throws otherwise.
HashAlgorithm parse_hash_algorithm(std::string_view name);
std::size_t digest_size(HashAlgorithm algorithm);
// The algorithm whose digests have `size` bytes (the sizes are distinct);
// throws for any other size.
HashAlgorithm algorithm_of_digest_size(std::size_t size);

// A digest of at most 64 bytes, stored inline.
class Digest {
public:
    Digest() = default;
    Digest(HashAlgorithm algorithm, ByteSpan bytes);
    HashAlgorithm algorithm() const noexcept { return algorithm_; }
    ByteSpan bytes() const noexcept { return {data_.data(), size_}; }
    std::size_t size() const noexcept { return size_; }
    std::string hex() const;
    bool operator==(const Digest& other) const noexcept;
    // A digest of `algorithm`'s size with every byte zero (an initial register value).
    static Digest zero(HashAlgorithm algorithm);

private:
    HashAlgorithm algorithm_ = HashAlgorithm::sha256;
    std::array<std::uint8_t, 64> data_{};
    std::size_t size_ = 0;
};

// Incremental hash. Feed spans; nothing is copied.
class Hasher {
public:
    explicit Hasher(HashAlgorithm algorithm);
    ~Hasher();
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    Hasher& update(ByteSpan bytes);
    Hasher& update(std::string_view text);
    Hasher& update_le64(std::uint64_t value);
    Hasher& update_le32(std::uint32_t value);
    // Returns the digest; the hasher is then reset for reuse.
    Digest finish();
    HashAlgorithm algorithm() const noexcept { return algorithm_; }

private:
    HashAlgorithm algorithm_;
    struct Context;
    std::unique_ptr<Context> ctx_;
};

Digest hash(HashAlgorithm algorithm, ByteSpan bytes);
// Streams a payload through the hash in chunks, releasing each chunk of a
// mapped file after use: the resident footprint stays a few MiB whatever the
// payload's size. The result is remembered with the payload: a second call
// for the same view and algorithm reads nothing.
Digest hash(HashAlgorithm algorithm, const Payload& payload);
// Several digests of one payload (an event log's banks) from one pass over
// its bytes, in the order asked; remembered like the one above.
std::vector<Digest> hash(const std::vector<HashAlgorithm>& algorithms, const Payload& payload);

// Incremental HMAC keyed with `key`.
class Hmac {
public:
    Hmac(HashAlgorithm algorithm, ByteSpan key);
    ~Hmac();
    Hmac(const Hmac&) = delete;
    Hmac& operator=(const Hmac&) = delete;
    Hmac& update(ByteSpan bytes);
    Digest finish();

private:
    HashAlgorithm algorithm_;
    struct Context;
    std::unique_ptr<Context> ctx_;
};

Digest hmac(HashAlgorithm algorithm, ByteSpan key, ByteSpan bytes);

// Lowercase hex of `bytes`.
std::string to_hex(ByteSpan bytes);
// Parses hex (even length, no prefix); throws naming `what` on bad input.
std::vector<std::uint8_t> from_hex(std::string_view hex, std::string_view what);
// Base64 (RFC 4648 section 4, with '=' padding), as verifiers' reference
// values and attestation tokens' JSON renderings carry digests.
std::string to_base64(ByteSpan bytes);
// Strict: the standard alphabet, padded to a multiple of 4 characters, no
// whitespace, no bits set past the data. Throws naming `what` and the offset.
std::vector<std::uint8_t> from_base64(std::string_view text, std::string_view what);

} // namespace cvm
