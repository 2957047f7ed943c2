// The guest owner's Diffie-Hellman certificate (LAUNCH_START's DH_CERT) in
// the SEV certificate format, from the owner's P-384 key in PEM.
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/sev_cert.hpp"
#include "pem_keys.hpp"
#include "sev_cert_keys.hpp"

namespace cvm::sev {
namespace {


// The BIGNUM parameter `name` of `key`, little-endian in a 72-byte field.
void get_le(EVP_PKEY* key, const char* name, std::array<std::uint8_t, kSevEcField>& out) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) throw Error(fmt::format("cannot read the key's {}", name));
    ossl::Bn value(raw);
    if (BN_bn2lebinpad(value.get(), out.data(), static_cast<int>(out.size())) < 0)
        throw Error(fmt::format("the key's {} does not fit 72 bytes", name));
}

} // namespace

std::array<std::uint8_t, kSevCertSize> make_owner_dh_certificate(const std::string& key_pem,
                                                                 const OwnerCertOptions& options) {
    // A self-signed certificate needs the private key; an unsigned one only the point.
    const auto key = read_pem_key(key_pem, options.self_sign, "the owner's key");
    require_p384(key.get(), "the owner's key");

    // Usage PDH and algorithm ECDH-SHA256: what the PSP's own PDH carries
    // (PDH_CERT_EXPORT), and what sev-tool's create_godh_cert and
    // virtee/sev's Certificate::generate(Usage::PDH) write.
    SevCertificate cert;
    cert.api_major = options.api_major;
    cert.api_minor = options.api_minor;
    cert.usage = CertUsage::pdh;
    cert.algo = CertAlgo::ecdh_sha256;
    get_le(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, cert.qx);
    get_le(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, cert.qy);
    if (!options.self_sign) return write_sev_certificate(cert);

    // Slot 1: usage PEK, ECDSA-SHA256, as sev-tool's create_godh_cert signs
    // (sign_with_key with SEV_USAGE_PEK): the owner's key plays the PEK.
    const auto body = write_sev_certificate(cert);
    ossl::MdCtx ctx(EVP_MD_CTX_new());
    std::size_t der_size = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &der_size, body.data(), kSevCertSignedSize) != 1)
        throw Error("cannot sign the owner's certificate");
    std::vector<unsigned char> der(der_size);
    if (EVP_DigestSign(ctx.get(), der.data(), &der_size, body.data(), kSevCertSignedSize) != 1)
        throw Error("cannot sign the owner's certificate");
    const unsigned char* p = der.data();
    ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_size)));
    if (!sig) throw Error("OpenSSL gave an ECDSA signature it cannot read back");
    auto& slot = cert.signatures[0];
    slot.usage = CertUsage::pek;
    slot.algo = CertAlgo::ecdsa_sha256;
    if (BN_bn2lebinpad(ECDSA_SIG_get0_r(sig.get()), slot.bytes.data(), static_cast<int>(kSevEcField)) < 0 ||
        BN_bn2lebinpad(ECDSA_SIG_get0_s(sig.get()), slot.bytes.data() + kSevEcField, static_cast<int>(kSevEcField)) < 0)
        throw Error("the ECDSA signature does not fit the SEV layout");
    return write_sev_certificate(cert);
}

} // namespace cvm::sev
