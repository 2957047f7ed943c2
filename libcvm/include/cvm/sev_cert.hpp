// The certificates of an AMD SEV (and SEV-ES) platform, as the guest owner
// checks them before trusting the platform's Diffie-Hellman key (PDH) with a
// launch session, and the guest owner's own Diffie-Hellman certificate that
// LAUNCH_START takes.
//
// Two formats, both little-endian (AMD SEV API specification, publication
// 55766, appendix B "AMD Signing Key Certificate Format" and appendix C
// "SEV Certificate Format"; the same layouts as AMDESE/sev-tool src/sevapi.h
// structs AMD_CERT and SEV_CERT, and virtee/sev src/certs/sev/):
//
// * the AMD signing-key certificate of the ARK (AMD root key, self-signed)
//   and the ASK (AMD SEV signing key, signed by the ARK): RSA keys of 2048
//   (Naples) or 4096 (Rome and later) bits, RSA-PSS signatures;
// * the 0x824-byte SEV certificate of the CEK (chip endorsement key, signed
//   by the ASK), the OCA (owner certificate authority), the PEK (platform
//   endorsement key, signed by both the OCA and the CEK) and the PDH
//   (signed by the PEK): P-384 keys, ECDSA signatures.
//
// docs/amd-sev.md, "Checking the platform's certificates", walks through it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"

namespace cvm::sev {

// Key usages (SEV API appendix C.1, "USAGE Enumeration"; sev-tool
// src/sevapi.h SEV_USAGE).
enum class CertUsage : std::uint32_t {
    ark = 0x0,
    ask = 0x13,
    invalid = 0x1000,  // an unused signature slot
    oca = 0x1001,
    pek = 0x1002,
    pdh = 0x1003,
    cek = 0x1004,
};

// Key and signature algorithms (SEV API appendix C.1, "ALGO Enumeration";
// sev-tool src/sevapi.h SEV_SIG_ALGO). The suffix is the digest signed.
enum class CertAlgo : std::uint32_t {
    invalid = 0x0,  // an unused signature slot
    rsa_sha256 = 0x1,
    ecdsa_sha256 = 0x2,
    ecdh_sha256 = 0x3,
    rsa_sha384 = 0x101,
    ecdsa_sha384 = 0x102,
    ecdh_sha384 = 0x103,
};

// "PEK (0x1002)"; unknown values as hex.
std::string to_string(CertUsage usage);
std::string to_string(CertAlgo algo);

inline constexpr std::size_t kSevCertSize = 0x824;
// Bytes [0, kSevCertSignedSize) -- version through public key -- are what
// both signatures sign.
inline constexpr std::size_t kSevCertSignedSize = 0x414;
// The only curve libcvm accepts: P-384 (SEV_EC "SEVECP384"), the curve of
// every key the PSP makes. Coordinates and signature components are stored
// little-endian in 72-byte (576-bit) fields.
inline constexpr std::uint32_t kSevCurveP384 = 2;
inline constexpr std::size_t kSevEcField = 72;

struct SevSignature {
    CertUsage usage = CertUsage::invalid;  // the usage of the key that signed
    CertAlgo algo = CertAlgo::invalid;
    std::array<std::uint8_t, 0x200> bytes{};  // ECDSA: R (72, LE) || S (72, LE) || zeros; RSA: S (LE)
    bool empty() const { return usage == CertUsage::invalid && algo == CertAlgo::invalid; }
};

// An SEV certificate with an ECDSA or ECDH P-384 public key.
struct SevCertificate {
    std::uint32_t version = 1;
    std::uint8_t api_major = 0, api_minor = 0;  // the firmware's API version for a PEK/PDH, else 0
    CertUsage usage = CertUsage::invalid;
    CertAlgo algo = CertAlgo::invalid;
    std::uint32_t curve = kSevCurveP384;
    std::array<std::uint8_t, kSevEcField> qx{}, qy{};  // little-endian
    std::array<SevSignature, 2> signatures{};
};

// Strict parse of exactly 0x824 bytes: version 1, reserved bytes zero, a
// known usage, an ECDSA or ECDH key on P-384 with zero padding, each
// signature slot either unused (usage 0x1000, algo 0, all zero) or of a
// known usage and signature algorithm. If `expected` is not `invalid`, the
// key usage must be it. Throws a cvm::Error naming `name`, the offset, the
// field and the expectation.
SevCertificate parse_sev_certificate(ByteSpan bytes, const std::string& name,
                                     CertUsage expected = CertUsage::invalid);
// The 0x824 bytes of `cert` (the inverse of parse_sev_certificate).
std::array<std::uint8_t, kSevCertSize> write_sev_certificate(const SevCertificate& cert);

// An ARK or ASK certificate.
struct AmdSigningKey {
    std::uint32_t version = 1;
    std::array<std::uint8_t, 16> key_id{}, certifying_id{};  // equal for the self-signed ARK
    CertUsage usage = CertUsage::ark;
    std::uint32_t pubexp_bits = 0, modulus_bits = 0;  // 2048 or 4096
    std::vector<std::uint8_t> pubexp, modulus, signature;  // little-endian, as stored
    std::vector<std::uint8_t> signed_bytes;  // everything before the signature
};

// Strict parse: version 1, usage ARK (0x0) or ASK (0x13), reserved bytes
// zero, exponent and modulus sizes 2048 or 4096 bits, and a total size of
// exactly 0x40 + exponent + 2 x modulus bytes. `expected` must be ark or ask.
AmdSigningKey parse_amd_signing_key(ByteSpan bytes, const std::string& name, CertUsage expected);

// The chain PDH_CERT_EXPORT gives (PDH; PEK, OCA, CEK) with AMD's ASK and
// ARK for the product (what AMD publishes per processor generation).
struct PdhChain {
    SevCertificate pdh, pek, oca, cek;
    AmdSigningKey ask, ark;
};

struct PdhChainFiles {
    std::string pdh, pek, oca, cek, ask, ark;
};

// Reads and parses the six files, each checked to hold the certificate of
// its role. Throws a cvm::Error for a file that cannot be read or parsed.
PdhChain read_pdh_chain(const PdhChainFiles& files);

struct PdhChainResult {
    std::vector<std::string> checked;   // one line per link established
    std::vector<std::string> failures;  // one line per link that does not hold
    bool trusted() const { return failures.empty(); }
};

// Checks every link: the ARK is self-signed, the ASK is certified (ID) and
// signed by the ARK, the CEK by the ASK, the PEK by the CEK and by the OCA,
// the OCA by itself, the PDH by the PEK. Cryptography is OpenSSL's. A link
// that does not hold is a failure line, not an exception: the caller sees
// every broken link at once.
PdhChainResult verify_pdh_chain(const PdhChain& chain);

// A P-384 coordinate of a certificate (72 bytes little-endian, 48 used) as
// big-endian hex, the way OpenSSL and `openssl ec -text` print it.
std::string coordinate_hex(const std::array<std::uint8_t, kSevEcField>& le);

// The check as one JSON object: {"trusted", "pdh": {"api", "algo", "qx",
// "qy"} (coordinates big-endian hex), "checked", "failures"}.
std::string pdh_chain_report_json(const PdhChain& chain, const PdhChainResult& result);

// The certificate's public key as a PEM SubjectPublicKeyInfo (what
// ecdh_p384 in cvm/sev_owner.hpp takes as the peer). Throws if the point is
// not on P-384.
std::string sev_certificate_public_key_pem(const SevCertificate& cert);

// The guest owner's Diffie-Hellman certificate for LAUNCH_START (DH_CERT):
// the P-384 public key of `key_pem` (a PEM private key, or a public key when
// `self_sign` is false) as usage PDH, algorithm ECDH-SHA256, the
// PDH_CERT_EXPORT form. With `self_sign`, slot 1 holds an ECDSA-SHA256
// signature by the same key with usage PEK, as AMDESE/sev-tool's
// create_godh_cert writes it; without, both slots are unused, as
// virtee/sev's Session::start writes it. The firmware does not check this
// signature (sev-tool's comment there); it lets the owner check the file.
struct OwnerCertOptions {
    bool self_sign = true;
    std::uint8_t api_major = 0, api_minor = 0;
};
std::array<std::uint8_t, kSevCertSize> make_owner_dh_certificate(const std::string& key_pem,
                                                                 const OwnerCertOptions& options = {});

} // namespace cvm::sev
