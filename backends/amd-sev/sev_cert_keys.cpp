#include "sev_cert_keys.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "cvm/error.hpp"

namespace cvm::sev::certkeys {
namespace {

constexpr std::size_t kP384Bytes = 48;

// Little-endian storage to the big-endian order OpenSSL's octet strings use.
void append_be(std::vector<std::uint8_t>& out, ByteSpan le, std::size_t size) {
    for (std::size_t i = size; i-- > 0;) out.push_back(le[i]);
}

ossl::Pkey from_params(const char* type, OSSL_PARAM_BLD* bld, const std::string& role) {
    const bool ec = std::string(type) == "EC";
    // OpenSSL refuses a point off the curve already when it decodes it, and
    // the public-key check refuses the rest (an even RSA modulus, one with
    // small factors): both are a malformed certificate.
    const std::string refusal = ec ? fmt::format("the {} certificate's public key: QX, QY are not a point of P-384", role)
                                   : fmt::format("the {} certificate's public key fails OpenSSL's RSA public-key check",
                                                 role);
    ossl::Params params(OSSL_PARAM_BLD_to_param(bld));
    ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) throw Error("out of memory building a key");
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) throw Error(refusal);
    ossl::Pkey key(raw);
    ossl::PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) throw Error(refusal);
    return key;
}

} // namespace

ossl::Pkey ec_public_key(const SevCertificate& cert, const std::string& role) {
    if (cert.curve != kSevCurveP384) throw Error(fmt::format("the {} certificate's key is not on P-384", role));
    std::vector<std::uint8_t> point{0x04};  // SEC 1 uncompressed point
    append_be(point, cert.qx, kP384Bytes);
    append_be(point, cert.qy, kP384Bytes);
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
        throw Error("out of memory building an EC key");
    return from_params("EC", bld.get(), role);
}

ossl::Pkey rsa_public_key(const AmdSigningKey& key, const std::string& role) {
    ossl::Bn n(BN_lebin2bn(key.modulus.data(), static_cast<int>(key.modulus.size()), nullptr));
    ossl::Bn e(BN_lebin2bn(key.pubexp.data(), static_cast<int>(key.pubexp.size()), nullptr));
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!n || !e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
        throw Error("out of memory building an RSA key");
    auto pkey = from_params("RSA", bld.get(), role);
    // The size field says how long the modulus is; a modulus with leading
    // zero bytes would be a shorter key than the certificate claims.
    if (static_cast<std::uint32_t>(EVP_PKEY_get_bits(pkey.get())) != key.modulus_bits)
        throw Error(fmt::format("the {} certificate's modulus has {} bits, its MODULUS_SIZE says {}", role,
                                EVP_PKEY_get_bits(pkey.get()), key.modulus_bits));
    return pkey;
}

const EVP_MD* digest_of(CertAlgo algo) {
    switch (algo) {
    case CertAlgo::rsa_sha256: case CertAlgo::ecdsa_sha256: case CertAlgo::ecdh_sha256: return EVP_sha256();
    case CertAlgo::rsa_sha384: case CertAlgo::ecdsa_sha384: case CertAlgo::ecdh_sha384: return EVP_sha384();
    case CertAlgo::invalid: break;
    }
    throw Error(fmt::format("no digest for algorithm {}", to_string(algo)));
}

bool verify_ecdsa(EVP_PKEY* key, const EVP_MD* md, ByteSpan message, ByteSpan r_le, ByteSpan s_le) {
    ossl::EcdsaSig sig(ECDSA_SIG_new());
    ossl::Bn r(BN_lebin2bn(r_le.data(), static_cast<int>(r_le.size()), nullptr));
    ossl::Bn s(BN_lebin2bn(s_le.data(), static_cast<int>(s_le.size()), nullptr));
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
        throw Error("out of memory holding an ECDSA signature");
    r.release();  // owned by sig now
    s.release();
    unsigned char* der_raw = nullptr;
    const int der_size = i2d_ECDSA_SIG(sig.get(), &der_raw);
    ossl::Buffer der(der_raw);
    if (der_size <= 0) throw Error("cannot encode an ECDSA signature");
    ossl::MdCtx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1)
        throw Error("cannot set up an ECDSA signature check");
    return EVP_DigestVerify(ctx.get(), der.get(), static_cast<std::size_t>(der_size), message.data(),
                            message.size()) == 1;
}

bool verify_rsa_pss(EVP_PKEY* key, const EVP_MD* md, ByteSpan message, ByteSpan signature_le) {
    std::vector<std::uint8_t> be(signature_le.rbegin(), signature_le.rend());
    ossl::MdCtx ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
        throw Error("cannot set up an RSA-PSS signature check");
    return EVP_DigestVerify(ctx.get(), be.data(), be.size(), message.data(), message.size()) == 1;
}

} // namespace cvm::sev::certkeys
