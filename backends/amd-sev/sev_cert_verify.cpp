// The PDH chain check (SEV API chapter 2, "Platform Authentication", and
// appendix C): ARK -> ASK -> CEK -> PEK <- OCA, PEK -> PDH. The same links
// virtee/sev's certs::sev::Chain::verify checks (src/certs/sev/chain.rs,
// src/certs/sev/sev/chain.rs).
#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <openssl/pem.h>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/sev_cert.hpp"
#include "sev_cert_keys.hpp"

namespace cvm::sev {
namespace {

constexpr std::array<std::size_t, 2> kSigSlot{0x414, 0x61c};
// An ARK or ASK file is at most 0x40 + 3 x 512 bytes; the cap only keeps a
// wrong path (/dev/zero) from being read without end.
constexpr std::uint64_t kMaxCertFile = 4096;

struct Signer {
    const char* role;
    CertUsage usage;
    EVP_PKEY* key;
    bool rsa;
    std::uint32_t rsa_bytes;  // the modulus length for RSA signers
};

std::string slot_summary(const SevCertificate& cert) {
    return fmt::format("SIG1 is by {}, SIG2 by {}", to_string(cert.signatures[0].usage),
                       to_string(cert.signatures[1].usage));
}

// Does one of `cert`'s slots carry a valid signature of `signer`? The slot
// is chosen by its usage, as the firmware does (sev-tool verify_sev_cert).
void check_sev_link(const SevCertificate& cert, const char* role, const Signer& signer, PdhChainResult& result) {
    const auto body = write_sev_certificate(cert);
    const ByteSpan message = ByteSpan(body).first(kSevCertSignedSize);
    bool found = false;
    for (int i = 0; i < 2; ++i) {
        const auto& sig = cert.signatures[i];
        if (sig.usage != signer.usage) continue;
        found = true;
        const std::string where = fmt::format("the {} certificate's SIG{} (offset {:#x}, {})", role, i + 1,
                                              kSigSlot[i], to_string(sig.algo));
        bool ok = false;
        if (signer.rsa) {
            if (sig.algo != CertAlgo::rsa_sha256 && sig.algo != CertAlgo::rsa_sha384) {
                result.failures.push_back(fmt::format("{} claims the {} but is not an RSA signature", where,
                                                      signer.role));
                continue;
            }
            // The field is 0x200 bytes; a 2048-bit signer fills the first 256.
            const ByteSpan all(sig.bytes);
            if (!std::all_of(all.begin() + signer.rsa_bytes, all.end(), [](std::uint8_t b) { return b == 0; })) {
                result.failures.push_back(fmt::format("{}: bytes past the {}-byte signature of the {} are not zero",
                                                      where, signer.rsa_bytes, signer.role));
                continue;
            }
            ok = certkeys::verify_rsa_pss(signer.key, certkeys::digest_of(sig.algo), message,
                                          all.first(signer.rsa_bytes));
        } else {
            if (sig.algo != CertAlgo::ecdsa_sha256 && sig.algo != CertAlgo::ecdsa_sha384) {
                result.failures.push_back(fmt::format("{} claims the {} but is not an ECDSA signature", where,
                                                      signer.role));
                continue;
            }
            const ByteSpan all(sig.bytes);
            ok = certkeys::verify_ecdsa(signer.key, certkeys::digest_of(sig.algo), message,
                                        all.first(kSevEcField), all.subspan(kSevEcField, kSevEcField));
        }
        if (ok) {
            result.checked.push_back(fmt::format("the {} is signed by the {} (SIG{}, {})", role, signer.role, i + 1,
                                                 to_string(sig.algo)));
            return;
        }
        result.failures.push_back(fmt::format("{} does not verify with the {}'s key", where, signer.role));
    }
    if (!found)
        result.failures.push_back(fmt::format("the {} certificate has no signature by the {} (usage {}): {}", role,
                                              signer.role, to_string(signer.usage), slot_summary(cert)));
}

void check_amd_link(const AmdSigningKey& subject, const char* role, const AmdSigningKey& issuer,
                    const char* issuer_role, EVP_PKEY* issuer_key, PdhChainResult& result) {
    if (subject.certifying_id != issuer.key_id) {
        result.failures.push_back(fmt::format("the {} certificate's CERTIFYING_ID (offset 0x14) {} is not the {}'s "
                                              "KEY_ID {}", role, to_hex(subject.certifying_id), issuer_role,
                                              to_hex(issuer.key_id)));
        return;
    }
    if (subject.signature.size() != issuer.modulus.size()) {
        result.failures.push_back(fmt::format("the {} certificate's signature has {} bytes, the {}'s modulus {}", role,
                                              subject.signature.size(), issuer_role, issuer.modulus.size()));
        return;
    }
    // AMD signs its keys with SHA-256 when they are 2048-bit and SHA-384
    // when 4096-bit (virtee/sev src/certs/sev/ca/cert/v1.rs, Size::Small /
    // Size::Large; the CEK's slot names the same digests).
    const EVP_MD* md = issuer.modulus_bits == 2048 ? EVP_sha256() : EVP_sha384();
    const std::size_t at = subject.signed_bytes.size();
    if (certkeys::verify_rsa_pss(issuer_key, md, subject.signed_bytes, subject.signature))
        result.checked.push_back(fmt::format("the {} is {} (RSA-PSS, {}, {} bits)", role,
                                             &subject == &issuer ? std::string("self-signed")
                                                                 : fmt::format("signed by the {}", issuer_role),
                                             EVP_MD_get0_name(md), issuer.modulus_bits));
    else
        result.failures.push_back(fmt::format("the {} certificate's signature (offset {:#x}, RSA-PSS {}) does not "
                                              "verify with the {}'s key", role, at, EVP_MD_get0_name(md),
                                              issuer_role));
}

} // namespace

PdhChain read_pdh_chain(const PdhChainFiles& files) {
    auto sev = [](const std::string& path, CertUsage usage, const char* role) {
        if (path.empty()) throw Error(fmt::format("the {} certificate is missing", role));
        return parse_sev_certificate(read_input_file(path, kMaxCertFile), path, usage);
    };
    auto amd = [](const std::string& path, CertUsage usage, const char* role) {
        if (path.empty()) throw Error(fmt::format("the {} certificate is missing", role));
        return parse_amd_signing_key(read_input_file(path, kMaxCertFile), path, usage);
    };
    return PdhChain{sev(files.pdh, CertUsage::pdh, "PDH"), sev(files.pek, CertUsage::pek, "PEK"),
                    sev(files.oca, CertUsage::oca, "OCA"), sev(files.cek, CertUsage::cek, "CEK"),
                    amd(files.ask, CertUsage::ask, "ASK"), amd(files.ark, CertUsage::ark, "ARK")};
}

PdhChainResult verify_pdh_chain(const PdhChain& c) {
    PdhChainResult result;
    const auto ark = certkeys::rsa_public_key(c.ark, "ARK");
    const auto ask = certkeys::rsa_public_key(c.ask, "ASK");
    const auto cek = certkeys::ec_public_key(c.cek, "CEK");
    const auto oca = certkeys::ec_public_key(c.oca, "OCA");
    const auto pek = certkeys::ec_public_key(c.pek, "PEK");
    certkeys::ec_public_key(c.pdh, "PDH");  // the key the owner will use: a point of P-384

    // The ARK is the root the caller trusts; its self-signature only shows
    // the file is whole.
    check_amd_link(c.ark, "ARK", c.ark, "ARK", ark.get(), result);
    check_amd_link(c.ask, "ASK", c.ark, "ARK", ark.get(), result);
    check_sev_link(c.cek, "CEK", {"ASK", CertUsage::ask, ask.get(), true, c.ask.modulus_bits / 8}, result);
    check_sev_link(c.pek, "PEK", {"CEK", CertUsage::cek, cek.get(), false, 0}, result);
    check_sev_link(c.pek, "PEK", {"OCA", CertUsage::oca, oca.get(), false, 0}, result);
    check_sev_link(c.oca, "OCA", {"OCA (self-signed)", CertUsage::oca, oca.get(), false, 0}, result);
    check_sev_link(c.pdh, "PDH", {"PEK", CertUsage::pek, pek.get(), false, 0}, result);
    return result;
}

std::string sev_certificate_public_key_pem(const SevCertificate& cert) {
    const auto key = certkeys::ec_public_key(cert, to_string(cert.usage));
    ossl::Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) throw Error("cannot write a PEM public key");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

} // namespace cvm::sev
