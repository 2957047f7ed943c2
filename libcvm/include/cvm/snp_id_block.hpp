// The SEV-SNP ID block and ID authentication information structure that a
// guest owner signs and the host gives to SNP_LAUNCH_FINISH. The firmware
// checks the ID block's signature with the ID key (and, with AUTHOR_KEY_EN,
// the ID key's signature with the author key), refuses the launch unless the
// block's launch digest and policy are the guest's, and then reports
// FAMILY_ID, IMAGE_ID, GUEST_SVN and the digests of both public keys in
// every attestation report: a verifier who knows the keys need not predict
// the measurement itself.
//
// Layouts (SNP firmware ABI, publication 56860, "ID_BLOCK" and "ID
// Authentication Information Structure"), little-endian, as public code
// spells them out: virtee/sev src/measurement/idblock_types.rs (IdBlock,
// IdAuth with reserved ranges 0x08-0x3F, 0x644-0x67F, 0xC84-0xFFF;
// SevEcdsaSig, SevEcdsaPubKey), Linux include/uapi/linux/kvm.h
// KVM_SEV_SNP_ID_BLOCK_SIZE 96 and KVM_SEV_SNP_ID_AUTH_SIZE 4096, QEMU
// target/i386/sev.c (the id-block / id-auth properties, exactly 96 bytes and
// at most 4096).
//
//   ID block (0x60):   LD 0x00 (48, the expected launch digest), FAMILY_ID
//                      0x30 (16), IMAGE_ID 0x40 (16), VERSION 0x50 (u32, 1),
//                      GUEST_SVN 0x54 (u32), POLICY 0x58 (u64)
//   ID auth (0x1000):  ID_KEY_ALGO 0x00 (u32), AUTH_KEY_ALGO 0x04 (u32),
//                      ID_BLOCK_SIG 0x40 (0x200), ID_KEY 0x240 (0x404),
//                      ID_KEY_SIG 0x680 (0x200), AUTHOR_KEY 0x880 (0x404)
//   signature (0x200): R 0x00, S 0x48 (72 bytes each, little-endian), zeros
//   public key (0x404): CURVE 0x00 (u32, 2 = P-384), QX 0x04, QY 0x4c
//                      (72 bytes each, little-endian), zeros
//
// Algorithm 1 is ECDSA P-384 with SHA-384 (the ABI's only one). The
// report's ID_KEY_DIGEST and AUTHOR_KEY_DIGEST are SHA-384 of the 0x404-byte
// public key structure (virtee/sev idblock.rs generate_key_digest).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "cvm/bytes.hpp"

namespace cvm::sev {

inline constexpr std::size_t kSnpIdBlockSize = 0x60;
inline constexpr std::size_t kSnpIdAuthSize = 0x1000;
inline constexpr std::size_t kSnpPublicKeySize = 0x404;
inline constexpr std::size_t kSnpSignatureSize = 0x200;
inline constexpr std::size_t kSnpEcField = 72;  // 576 bits: R, S, QX, QY
inline constexpr std::uint32_t kSnpIdBlockVersion = 1;
inline constexpr std::uint32_t kSnpAlgoEcdsaP384Sha384 = 1;
inline constexpr std::uint32_t kSnpCurveP384 = 2;

// Offsets inside the ID authentication information structure.
inline constexpr std::size_t kIdAuthIdKeyAlgo = 0x00, kIdAuthAuthorKeyAlgo = 0x04, kIdAuthIdBlockSig = 0x40,
                             kIdAuthIdKey = 0x240, kIdAuthIdKeySig = 0x680, kIdAuthAuthorKey = 0x880;

using SnpDigest = std::array<std::uint8_t, 48>;
using SnpEcValue = std::array<std::uint8_t, kSnpEcField>;  // little-endian, as the structures hold it

struct SnpIdBlock {
    SnpDigest launch_digest{};
    std::array<std::uint8_t, 16> family_id{};
    std::array<std::uint8_t, 16> image_id{};
    std::uint32_t version = kSnpIdBlockVersion;
    std::uint32_t guest_svn = 0;
    std::uint64_t policy = 0;
};

struct SnpPublicKey {
    std::uint32_t curve = kSnpCurveP384;
    SnpEcValue qx{}, qy{};
};

struct SnpSignature {
    SnpEcValue r{}, s{};
};

struct SnpIdAuth {
    std::uint32_t id_key_algo = kSnpAlgoEcdsaP384Sha384;
    // 0 when there is no author key: libcvm then leaves AUTHOR_KEY and
    // ID_KEY_SIG zero, and the launch runs with AUTHOR_KEY_EN = 0, where the
    // firmware reads neither.
    std::uint32_t author_key_algo = 0;
    SnpSignature id_block_sig;
    SnpPublicKey id_key;
    SnpSignature id_key_sig;
    SnpPublicKey author_key;
    bool has_author_key() const { return author_key_algo != 0; }
};

std::array<std::uint8_t, kSnpIdBlockSize> write_snp_id_block(const SnpIdBlock& block);
std::array<std::uint8_t, kSnpIdAuthSize> write_snp_id_auth(const SnpIdAuth& auth);
std::array<std::uint8_t, kSnpPublicKeySize> write_snp_public_key(const SnpPublicKey& key);

// Strict parsers for bytes from anyone (a file handed to the launch): the
// exact size, VERSION 1, algorithm 1 (or 0 for an absent author key, whose
// fields must then be zero), curve 2, values below 2^384, reserved bytes
// zero. Throw a cvm::Error naming `name`, the offset and the expectation.
SnpIdBlock parse_snp_id_block(ByteSpan bytes, const std::string& name);
SnpIdAuth parse_snp_id_auth(ByteSpan bytes, const std::string& name);

// ID_KEY_DIGEST / AUTHOR_KEY_DIGEST: SHA-384 of the 0x404-byte structure.
SnpDigest snp_key_digest(const SnpPublicKey& key);

// The P-384 public key of a PEM private or public key, in the SNP layout.
// Throws naming `what` for another key type or curve.
SnpPublicKey snp_public_key_from_pem(const std::string& pem, const std::string& what);

struct SignedIdBlock {
    std::array<std::uint8_t, kSnpIdBlockSize> id_block{};
    std::array<std::uint8_t, kSnpIdAuthSize> id_auth{};
    SnpDigest id_key_digest{};
    std::optional<SnpDigest> author_key_digest;  // with an author key
};

// Signs `block` with the ID key (ECDSA P-384, SHA-384 over the 0x60 bytes)
// and, given an author key, the ID key's 0x404 bytes with the author key.
// Keys are PEM private keys on P-384.
SignedIdBlock sign_snp_id_block(const SnpIdBlock& block, const std::string& id_key_pem,
                                const std::optional<std::string>& author_key_pem);

// What SNP_LAUNCH_FINISH checks of the signatures: ID_BLOCK_SIG over the ID
// block with ID_KEY, and, when `author_key_en`, ID_KEY_SIG over ID_KEY with
// AUTHOR_KEY. Returns an empty string if both hold, else what failed.
std::string check_snp_id_signatures(ByteSpan id_block, const SnpIdAuth& auth, bool author_key_en);

} // namespace cvm::sev
