// The byte layouts of the SNP ID block and ID authentication structure
// (offsets and sources in cvm/snp_id_block.hpp): writing them, and reading
// them back strictly, since a launch takes them from a file.
#include "cvm/snp_id_block.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::sev {
namespace {

// ID block fields.
constexpr std::size_t kLd = 0x00, kFamilyId = 0x30, kImageId = 0x40, kVersion = 0x50, kGuestSvn = 0x54,
                      kPolicy = 0x58;
// Inside a signature and a public key.
constexpr std::size_t kSigR = 0x00, kSigS = 0x48, kSigUsed = 0x90;
constexpr std::size_t kKeyCurve = 0x00, kKeyQx = 0x04, kKeyQy = 0x4c, kKeyUsed = 0x94;
constexpr std::size_t kP384Bytes = 48;  // values are below 2^384: the top 24 bytes of a field are zero

static_assert(kIdAuthIdBlockSig + kSnpSignatureSize == kIdAuthIdKey);
static_assert(kIdAuthIdKey + kSnpPublicKeySize == 0x644);  // then reserved to 0x67f
static_assert(kIdAuthIdKeySig + kSnpSignatureSize == kIdAuthAuthorKey);
static_assert(kIdAuthAuthorKey + kSnpPublicKeySize == 0xc84);  // then reserved to 0xfff
static_assert(kPolicy + 8 == kSnpIdBlockSize && kKeyQy + kSnpEcField == kKeyUsed && kSigS + kSnpEcField == kSigUsed);

template <std::size_t N>
void put(std::span<std::uint8_t> out, std::size_t at, const std::array<std::uint8_t, N>& value) {
    std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
}

template <std::size_t N>
void get(ByteSpan in, std::size_t at, std::array<std::uint8_t, N>& value) {
    std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(at), N, value.begin());
}

void put_signature(std::span<std::uint8_t> out, std::size_t at, const SnpSignature& sig) {
    put(out, at + kSigR, sig.r);
    put(out, at + kSigS, sig.s);
}

void put_key(std::span<std::uint8_t> out, std::size_t at, const SnpPublicKey& key) {
    le::write<std::uint32_t>(out, at + kKeyCurve, key.curve);
    put(out, at + kKeyQx, key.qx);
    put(out, at + kKeyQy, key.qy);
}

// [from, to) must be zero.
void require_zero(ByteSpan in, std::size_t from, std::size_t to, const std::string& name, const char* what) {
    for (std::size_t i = from; i < to; ++i)
        if (in[i] != 0)
            throw_format_error(name, i, what, "zero", fmt::format("{:#04x}", in[i]));
}

// A 72-byte field holding a P-384 number: the bytes above the 48th are zero.
void get_value(ByteSpan in, std::size_t at, SnpEcValue& value, const std::string& name, const std::string& what) {
    require_zero(in, at + kP384Bytes, at + kSnpEcField, name,
                 fmt::format("{} above 384 bits (a P-384 number fills 48 of its 72 bytes)", what).c_str());
    get(in, at, value);
}

SnpSignature get_signature(ByteSpan in, std::size_t at, const std::string& name, const char* what) {
    SnpSignature sig;
    get_value(in, at + kSigR, sig.r, name, fmt::format("{} R", what));
    get_value(in, at + kSigS, sig.s, name, fmt::format("{} S", what));
    require_zero(in, at + kSigUsed, at + kSnpSignatureSize, name, fmt::format("{} reserved", what).c_str());
    return sig;
}

SnpPublicKey get_key(ByteSpan in, std::size_t at, const std::string& name, const char* what) {
    SnpPublicKey key;
    key.curve = le::read<std::uint32_t>(in, at + kKeyCurve);
    if (key.curve != kSnpCurveP384)
        throw_format_error(name, at + kKeyCurve, fmt::format("{} CURVE", what), "2 (P-384)", fmt::format("{}", key.curve));
    get_value(in, at + kKeyQx, key.qx, name, fmt::format("{} QX", what));
    get_value(in, at + kKeyQy, key.qy, name, fmt::format("{} QY", what));
    require_zero(in, at + kKeyUsed, at + kSnpPublicKeySize, name, fmt::format("{} reserved", what).c_str());
    return key;
}

void require_algo(std::size_t at, std::uint32_t algo, const std::string& name, const char* what,
                  bool zero_allowed) {
    if (algo == kSnpAlgoEcdsaP384Sha384 || (zero_allowed && algo == 0)) return;
    throw_format_error(name, at, what,
                       zero_allowed ? "1 (ECDSA P-384 with SHA-384) or 0 (no author key)"
                                    : "1 (ECDSA P-384 with SHA-384)",
                       fmt::format("{}", algo));
}

} // namespace

std::array<std::uint8_t, kSnpIdBlockSize> write_snp_id_block(const SnpIdBlock& block) {
    std::array<std::uint8_t, kSnpIdBlockSize> out{};
    put(out, kLd, block.launch_digest);
    put(out, kFamilyId, block.family_id);
    put(out, kImageId, block.image_id);
    le::write<std::uint32_t>(out, kVersion, block.version);
    le::write<std::uint32_t>(out, kGuestSvn, block.guest_svn);
    le::write<std::uint64_t>(out, kPolicy, block.policy);
    return out;
}

std::array<std::uint8_t, kSnpPublicKeySize> write_snp_public_key(const SnpPublicKey& key) {
    std::array<std::uint8_t, kSnpPublicKeySize> out{};
    put_key(out, 0, key);
    return out;
}

std::array<std::uint8_t, kSnpIdAuthSize> write_snp_id_auth(const SnpIdAuth& auth) {
    std::array<std::uint8_t, kSnpIdAuthSize> out{};
    le::write<std::uint32_t>(out, kIdAuthIdKeyAlgo, auth.id_key_algo);
    le::write<std::uint32_t>(out, kIdAuthAuthorKeyAlgo, auth.author_key_algo);
    put_signature(out, kIdAuthIdBlockSig, auth.id_block_sig);
    put_key(out, kIdAuthIdKey, auth.id_key);
    if (auth.has_author_key()) {
        put_signature(out, kIdAuthIdKeySig, auth.id_key_sig);
        put_key(out, kIdAuthAuthorKey, auth.author_key);
    }
    return out;
}

SnpIdBlock parse_snp_id_block(ByteSpan bytes, const std::string& name) {
    if (bytes.size() != kSnpIdBlockSize)
        throw_format_error(name, 0, "SNP ID block size", "96 bytes (KVM_SEV_SNP_ID_BLOCK_SIZE)",
                           fmt::format("{} bytes", bytes.size()));
    SnpIdBlock block;
    get(bytes, kLd, block.launch_digest);
    get(bytes, kFamilyId, block.family_id);
    get(bytes, kImageId, block.image_id);
    block.version = le::read<std::uint32_t>(bytes, kVersion);
    if (block.version != kSnpIdBlockVersion)
        throw_format_error(name, kVersion, "ID block VERSION", "1", fmt::format("{}", block.version));
    block.guest_svn = le::read<std::uint32_t>(bytes, kGuestSvn);
    block.policy = le::read<std::uint64_t>(bytes, kPolicy);
    return block;
}

SnpIdAuth parse_snp_id_auth(ByteSpan bytes, const std::string& name) {
    if (bytes.size() != kSnpIdAuthSize)
        throw_format_error(name, 0, "SNP ID authentication structure size", "4096 bytes (KVM_SEV_SNP_ID_AUTH_SIZE)",
                           fmt::format("{} bytes", bytes.size()));
    SnpIdAuth auth;
    auth.id_key_algo = le::read<std::uint32_t>(bytes, kIdAuthIdKeyAlgo);
    require_algo(kIdAuthIdKeyAlgo, auth.id_key_algo, name, "ID_KEY_ALGO", false);
    auth.author_key_algo = le::read<std::uint32_t>(bytes, kIdAuthAuthorKeyAlgo);
    require_algo(kIdAuthAuthorKeyAlgo, auth.author_key_algo, name, "AUTH_KEY_ALGO", true);
    require_zero(bytes, 0x08, kIdAuthIdBlockSig, name, "reserved");
    auth.id_block_sig = get_signature(bytes, kIdAuthIdBlockSig, name, "ID_BLOCK_SIG");
    auth.id_key = get_key(bytes, kIdAuthIdKey, name, "ID_KEY");
    require_zero(bytes, kIdAuthIdKey + kSnpPublicKeySize, kIdAuthIdKeySig, name, "reserved");
    if (auth.has_author_key()) {
        auth.id_key_sig = get_signature(bytes, kIdAuthIdKeySig, name, "ID_KEY_SIG");
        auth.author_key = get_key(bytes, kIdAuthAuthorKey, name, "AUTHOR_KEY");
    } else {
        // No author key: the firmware reads neither field, so anything there
        // would be data the guest owner believes signed and nobody checks.
        require_zero(bytes, kIdAuthIdKeySig, kIdAuthAuthorKey + kSnpPublicKeySize, name,
                     "ID_KEY_SIG and AUTHOR_KEY of a structure with AUTH_KEY_ALGO 0 (no author key)");
    }
    require_zero(bytes, kIdAuthAuthorKey + kSnpPublicKeySize, kSnpIdAuthSize, name, "reserved");
    return auth;
}

SnpDigest snp_key_digest(const SnpPublicKey& key) {
    const auto bytes = write_snp_public_key(key);
    const auto digest = hash(HashAlgorithm::sha384, bytes);
    SnpDigest out{};
    std::copy_n(digest.bytes().begin(), out.size(), out.begin());
    return out;
}

} // namespace cvm::sev
