// Parsing and writing the two certificate formats of cvm/sev_cert.hpp. No
// cryptography here (sev_cert_verify.cpp): only the layout, checked so that
// every later reader can trust sizes, algorithms and curves.
#include "cvm/sev_cert.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::sev {
namespace {

// SEV certificate (SEV API appendix C.1, "SEV Certificate Format"; sev-tool
// src/sevapi.h SEV_CERT). The public key field is 0x404 bytes (an RSA-4096
// key fits: 4 + 0x200 + 0x200); an EC key is CURVE, QX, QY, zeros (appendix
// C.3.2/C.3.3, SEV_ECDSA_PUBKEY / SEV_ECDH_PUBKEY). A signature field is
// 0x200 bytes; ECDSA is R, S, zeros (appendix C.4.2, SEV_ECDSA_SIG).
constexpr std::size_t kVersion = 0x0, kApiMajor = 0x4, kApiMinor = 0x5, kReserved = 0x6, kUsage = 0x8,
                      kAlgo = 0xc, kPubKey = 0x10, kCurve = kPubKey, kQx = kPubKey + 4, kQy = kQx + kSevEcField,
                      kPubKeyPad = kQy + kSevEcField, kPubKeyEnd = kPubKey + 0x404;
constexpr std::array<std::size_t, 2> kSigSlot{0x414, 0x61c};
constexpr std::size_t kSigUsage = 0x0, kSigAlgo = 0x4, kSig = 0x8, kSigSize = 0x200;
static_assert(kPubKeyEnd == kSevCertSignedSize && kSigSlot[1] + kSig + kSigSize == kSevCertSize);
static_assert(kPubKeyPad == 0xa4);

// P-384 numbers are 48 bytes; the 72-byte fields are wide enough for P-521,
// which the SEV format reserves room for. Anything above byte 48 must be 0.
constexpr std::size_t kP384Bytes = 48;

// AMD signing-key certificate (SEV API appendix B.1; sev-tool src/sevapi.h
// AMD_CERT): KEY_ID and CERTIFYING_ID are 16 bytes each, 16 reserved bytes
// follow the usage, then the exponent and modulus sizes in bits, then the
// exponent, the modulus and the signature, each of its size.
constexpr std::size_t kAmdVersion = 0x0, kAmdKeyId = 0x4, kAmdCertifyingId = 0x14, kAmdUsage = 0x24,
                      kAmdReserved = 0x28, kAmdPubExpSize = 0x38, kAmdModulusSize = 0x3c, kAmdPubExp = 0x40;

// Throws unless bytes [at, at + size) are zero, naming the first that is not.
void require_zero(ByteSpan bytes, std::size_t at, std::size_t size, const std::string& name, const std::string& what,
                  const char* expected) {
    const auto field = bytes.subspan(at, size);
    const auto it = std::find_if(field.begin(), field.end(), [](std::uint8_t b) { return b != 0; });
    if (it != field.end())
        throw_format_error(name, at + static_cast<std::size_t>(it - field.begin()), what, expected,
                           fmt::format("{:#04x}", *it));
}

std::string hex32(std::uint32_t value) { return fmt::format("{:#x}", value); }

bool known_usage(std::uint32_t u) {
    switch (static_cast<CertUsage>(u)) {
    case CertUsage::ark: case CertUsage::ask: case CertUsage::invalid: case CertUsage::oca:
    case CertUsage::pek: case CertUsage::pdh: case CertUsage::cek:
        return true;
    }
    return false;
}

bool is_ecdsa(CertAlgo a) { return a == CertAlgo::ecdsa_sha256 || a == CertAlgo::ecdsa_sha384; }
bool is_ecdh(CertAlgo a) { return a == CertAlgo::ecdh_sha256 || a == CertAlgo::ecdh_sha384; }
bool is_rsa(CertAlgo a) { return a == CertAlgo::rsa_sha256 || a == CertAlgo::rsa_sha384; }

void check_ec_number(ByteSpan bytes, std::size_t at, const std::string& name, const char* field) {
    require_zero(bytes, at + kP384Bytes, kSevEcField - kP384Bytes, name, field,
                 "zero above the 48 bytes of a P-384 number");
}

SevSignature parse_signature(ByteSpan bytes, std::size_t at, const std::string& name, int slot) {
    SevSignature sig;
    const auto usage = le::read<std::uint32_t>(bytes, at + kSigUsage);
    const auto algo = le::read<std::uint32_t>(bytes, at + kSigAlgo);
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at + kSig), kSigSize, sig.bytes.begin());
    const std::string what = fmt::format("SIG{}", slot);
    if (usage == static_cast<std::uint32_t>(CertUsage::invalid) && algo == 0) {
        require_zero(bytes, at + kSig, kSigSize, name, what, "all zero in an unused slot (usage 0x1000, algo 0)");
        return sig;
    }
    if (!known_usage(usage) || usage == static_cast<std::uint32_t>(CertUsage::invalid))
        throw_format_error(name, at + kSigUsage, what + "_USAGE",
                           "a signing key's usage (ARK 0x0, ASK 0x13, OCA 0x1001, PEK 0x1002, CEK 0x1004) or an "
                           "unused slot (0x1000 with algo 0)", hex32(usage));
    sig.usage = static_cast<CertUsage>(usage);
    sig.algo = static_cast<CertAlgo>(algo);
    if (!is_ecdsa(sig.algo) && !is_rsa(sig.algo))
        throw_format_error(name, at + kSigAlgo, what + "_ALGO",
                           "a signature algorithm (RSA 0x1/0x101, ECDSA 0x2/0x102)", hex32(algo));
    if (is_ecdsa(sig.algo)) {
        check_ec_number(bytes, at + kSig, name, (what + " R").c_str());
        check_ec_number(bytes, at + kSig + kSevEcField, name, (what + " S").c_str());
        require_zero(bytes, at + kSig + 2 * kSevEcField, kSigSize - 2 * kSevEcField, name, what,
                     "zero after R and S");
    }
    return sig;
}

} // namespace

std::string to_string(CertUsage usage) {
    const auto v = static_cast<std::uint32_t>(usage);
    switch (usage) {
    case CertUsage::ark: return "ARK (0x0)";
    case CertUsage::ask: return "ASK (0x13)";
    case CertUsage::invalid: return "none (0x1000)";
    case CertUsage::oca: return "OCA (0x1001)";
    case CertUsage::pek: return "PEK (0x1002)";
    case CertUsage::pdh: return "PDH (0x1003)";
    case CertUsage::cek: return "CEK (0x1004)";
    }
    return fmt::format("unknown ({:#x})", v);
}

std::string to_string(CertAlgo algo) {
    switch (algo) {
    case CertAlgo::invalid: return "none (0x0)";
    case CertAlgo::rsa_sha256: return "RSA-SHA256 (0x1)";
    case CertAlgo::ecdsa_sha256: return "ECDSA-SHA256 (0x2)";
    case CertAlgo::ecdh_sha256: return "ECDH-SHA256 (0x3)";
    case CertAlgo::rsa_sha384: return "RSA-SHA384 (0x101)";
    case CertAlgo::ecdsa_sha384: return "ECDSA-SHA384 (0x102)";
    case CertAlgo::ecdh_sha384: return "ECDH-SHA384 (0x103)";
    }
    return fmt::format("unknown ({:#x})", static_cast<std::uint32_t>(algo));
}

SevCertificate parse_sev_certificate(ByteSpan bytes, const std::string& name, CertUsage expected) {
    if (bytes.size() != kSevCertSize)
        throw_format_error(name, 0, "SEV certificate size", fmt::format("{} bytes ({:#x})", kSevCertSize, kSevCertSize),
                           fmt::format("{} bytes", bytes.size()));
    SevCertificate cert;
    cert.version = le::read<std::uint32_t>(bytes, kVersion);
    if (cert.version != 1) throw_format_error(name, kVersion, "VERSION", "1", std::to_string(cert.version));
    cert.api_major = bytes[kApiMajor];
    cert.api_minor = bytes[kApiMinor];
    require_zero(bytes, kReserved, 2, name, "reserved bytes", "zero");
    const auto usage = le::read<std::uint32_t>(bytes, kUsage);
    if (!known_usage(usage) || usage == static_cast<std::uint32_t>(CertUsage::invalid) ||
        usage == static_cast<std::uint32_t>(CertUsage::ark) || usage == static_cast<std::uint32_t>(CertUsage::ask))
        throw_format_error(name, kUsage, "PUB_KEY_USAGE",
                           "OCA 0x1001, PEK 0x1002, PDH 0x1003 or CEK 0x1004 (an ARK or ASK has the AMD "
                           "signing-key format)", hex32(usage));
    cert.usage = static_cast<CertUsage>(usage);
    if (expected != CertUsage::invalid && cert.usage != expected)
        throw_format_error(name, kUsage, "PUB_KEY_USAGE", to_string(expected), to_string(cert.usage));
    const auto algo = le::read<std::uint32_t>(bytes, kAlgo);
    cert.algo = static_cast<CertAlgo>(algo);
    // The PDH is the one Diffie-Hellman key; every other key of the chain
    // signs (SEV API chapter 2, "Summary of Keys").
    if (cert.usage == CertUsage::pdh ? !is_ecdh(cert.algo) : !is_ecdsa(cert.algo))
        throw_format_error(name, kAlgo, "PUB_KEY_ALGO",
                           cert.usage == CertUsage::pdh ? "ECDH-SHA256 0x3 or ECDH-SHA384 0x103 for a PDH"
                                                        : "ECDSA-SHA256 0x2 or ECDSA-SHA384 0x102 (RSA SEV keys are "
                                                          "not supported)",
                           hex32(algo));
    cert.curve = le::read<std::uint32_t>(bytes, kCurve);
    if (cert.curve != kSevCurveP384)
        throw_format_error(name, kCurve, "CURVE", "2 (P-384)", std::to_string(cert.curve));
    check_ec_number(bytes, kQx, name, "QX");
    check_ec_number(bytes, kQy, name, "QY");
    std::copy_n(bytes.begin() + kQx, kSevEcField, cert.qx.begin());
    std::copy_n(bytes.begin() + kQy, kSevEcField, cert.qy.begin());
    require_zero(bytes, kPubKeyPad, kPubKeyEnd - kPubKeyPad, name, "public key padding", "zero after QY");
    for (int i = 0; i < 2; ++i) cert.signatures[i] = parse_signature(bytes, kSigSlot[i], name, i + 1);
    return cert;
}

std::array<std::uint8_t, kSevCertSize> write_sev_certificate(const SevCertificate& cert) {
    std::array<std::uint8_t, kSevCertSize> out{};
    le::write<std::uint32_t>(out, kVersion, cert.version);
    out[kApiMajor] = cert.api_major;
    out[kApiMinor] = cert.api_minor;
    le::write<std::uint32_t>(out, kUsage, static_cast<std::uint32_t>(cert.usage));
    le::write<std::uint32_t>(out, kAlgo, static_cast<std::uint32_t>(cert.algo));
    le::write<std::uint32_t>(out, kCurve, cert.curve);
    std::copy(cert.qx.begin(), cert.qx.end(), out.begin() + kQx);
    std::copy(cert.qy.begin(), cert.qy.end(), out.begin() + kQy);
    for (int i = 0; i < 2; ++i) {
        const auto& sig = cert.signatures[i];
        le::write<std::uint32_t>(out, kSigSlot[i] + kSigUsage, static_cast<std::uint32_t>(sig.usage));
        le::write<std::uint32_t>(out, kSigSlot[i] + kSigAlgo, static_cast<std::uint32_t>(sig.algo));
        std::copy(sig.bytes.begin(), sig.bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(kSigSlot[i] + kSig));
    }
    return out;
}

AmdSigningKey parse_amd_signing_key(ByteSpan bytes, const std::string& name, CertUsage expected) {
    if (expected != CertUsage::ark && expected != CertUsage::ask)
        throw Error("parse_amd_signing_key: the expected usage is the ARK's or the ASK's");
    if (bytes.size() < kAmdPubExp)
        throw_format_error(name, 0, "AMD signing-key certificate size", "at least 64 bytes (the header)",
                           fmt::format("{} bytes", bytes.size()));
    AmdSigningKey key;
    key.version = le::read<std::uint32_t>(bytes, kAmdVersion);
    if (key.version != 1) throw_format_error(name, kAmdVersion, "VERSION", "1", std::to_string(key.version));
    std::copy_n(bytes.begin() + kAmdKeyId, 16, key.key_id.begin());
    std::copy_n(bytes.begin() + kAmdCertifyingId, 16, key.certifying_id.begin());
    const auto usage = le::read<std::uint32_t>(bytes, kAmdUsage);
    if (usage != static_cast<std::uint32_t>(expected))
        throw_format_error(name, kAmdUsage, "KEY_USAGE", to_string(expected),
                           known_usage(usage) ? to_string(static_cast<CertUsage>(usage)) : hex32(usage));
    key.usage = expected;
    require_zero(bytes, kAmdReserved, kAmdPubExpSize - kAmdReserved, name, "reserved bytes", "zero");
    key.pubexp_bits = le::read<std::uint32_t>(bytes, kAmdPubExpSize);
    key.modulus_bits = le::read<std::uint32_t>(bytes, kAmdModulusSize);
    // "Must be 2048 or 4096" (AMD_CERT's comments; appendix B.1).
    if (key.pubexp_bits != 2048 && key.pubexp_bits != 4096)
        throw_format_error(name, kAmdPubExpSize, "PUB_EXP_SIZE", "2048 or 4096 bits", std::to_string(key.pubexp_bits));
    if (key.modulus_bits != 2048 && key.modulus_bits != 4096)
        throw_format_error(name, kAmdModulusSize, "MODULUS_SIZE", "2048 or 4096 bits",
                           std::to_string(key.modulus_bits));
    const std::size_t exp_bytes = key.pubexp_bits / 8, mod_bytes = key.modulus_bits / 8;
    // The signature is as long as the modulus (appendix B.1: "Size is
    // ModulusSize"): the ARK signs itself, and each product's ASK has the
    // ARK's size.
    const std::size_t size = kAmdPubExp + exp_bytes + 2 * mod_bytes;
    if (bytes.size() != size)
        throw_format_error(name, 0, "AMD signing-key certificate size",
                           fmt::format("{} bytes (0x40 + {}-bit exponent + {}-bit modulus + signature)", size,
                                       key.pubexp_bits, key.modulus_bits),
                           fmt::format("{} bytes", bytes.size()));
    auto at = bytes.begin() + kAmdPubExp;
    key.pubexp.assign(at, at + static_cast<std::ptrdiff_t>(exp_bytes));
    at += static_cast<std::ptrdiff_t>(exp_bytes);
    key.modulus.assign(at, at + static_cast<std::ptrdiff_t>(mod_bytes));
    at += static_cast<std::ptrdiff_t>(mod_bytes);
    key.signed_bytes.assign(bytes.begin(), at);
    key.signature.assign(at, bytes.end());
    return key;
}

} // namespace cvm::sev
