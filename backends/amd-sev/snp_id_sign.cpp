// Signing and checking the SNP ID block with OpenSSL: P-384 keys from PEM,
// ECDSA with SHA-384, r and s stored little-endian in 72-byte fields as the
// SNP firmware ABI's signature format has them (virtee/sev idblock_types.rs
// SevEcdsaSig reverses OpenSSL's big-endian numbers the same way).
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/sev_cert.hpp"
#include "cvm/snp_id_block.hpp"
#include "openssl_ptr.hpp"
#include "pem_keys.hpp"
#include "sev_cert_keys.hpp"

namespace cvm::sev {
namespace {

ossl::Pkey read_key(const std::string& pem, bool need_private, const std::string& what) {
    auto key = read_pem_key(pem, need_private, what);
    require_p384(key.get(), what);  // the SNP ABI's only algorithm, ECDSA P-384 with SHA-384
    return key;
}

void get_le(EVP_PKEY* key, const char* param, SnpEcValue& out) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) throw Error(fmt::format("cannot read the key's {}", param));
    ossl::Bn value(raw);
    if (BN_bn2lebinpad(value.get(), out.data(), static_cast<int>(out.size())) < 0)
        throw Error(fmt::format("the key's {} does not fit 72 bytes", param));
}

SnpPublicKey public_key_of(EVP_PKEY* key) {
    SnpPublicKey out;
    get_le(key, OSSL_PKEY_PARAM_EC_PUB_X, out.qx);
    get_le(key, OSSL_PKEY_PARAM_EC_PUB_Y, out.qy);
    return out;
}

SnpSignature sign(EVP_PKEY* key, ByteSpan message) {
    ossl::MdCtx ctx(EVP_MD_CTX_new());
    std::size_t der_size = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &der_size, message.data(), message.size()) != 1)
        throw Error("cannot sign with ECDSA P-384 / SHA-384");
    std::vector<unsigned char> der(der_size);
    if (EVP_DigestSign(ctx.get(), der.data(), &der_size, message.data(), message.size()) != 1)
        throw Error("cannot sign with ECDSA P-384 / SHA-384");
    const unsigned char* p = der.data();
    ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_size)));
    if (!sig) throw Error("OpenSSL gave an ECDSA signature it cannot read back");
    SnpSignature out;
    if (BN_bn2lebinpad(ECDSA_SIG_get0_r(sig.get()), out.r.data(), static_cast<int>(out.r.size())) < 0 ||
        BN_bn2lebinpad(ECDSA_SIG_get0_s(sig.get()), out.s.data(), static_cast<int>(out.s.size())) < 0)
        throw Error("the ECDSA signature does not fit the SNP layout");
    return out;
}

// The OpenSSL key of an SNP public key structure; the SEV certificate code
// already turns the same QX/QY layout into a key, checking the point.
ossl::Pkey openssl_key(const SnpPublicKey& key, const std::string& role) {
    SevCertificate as_cert;
    as_cert.curve = key.curve;
    as_cert.qx = key.qx;
    as_cert.qy = key.qy;
    return certkeys::ec_public_key(as_cert, role);
}

bool verifies(const SnpPublicKey& key, const SnpSignature& sig, ByteSpan message, const std::string& role) {
    const auto pkey = openssl_key(key, role);
    return certkeys::verify_ecdsa(pkey.get(), EVP_sha384(), message, sig.r, sig.s);
}

} // namespace

SnpPublicKey snp_public_key_from_pem(const std::string& pem, const std::string& what) {
    return public_key_of(read_key(pem, false, what).get());
}

SignedIdBlock sign_snp_id_block(const SnpIdBlock& block, const std::string& id_key_pem,
                                const std::optional<std::string>& author_key_pem) {
    SignedIdBlock out;
    out.id_block = write_snp_id_block(block);
    const auto id_key = read_key(id_key_pem, true, "the ID key");
    SnpIdAuth auth;
    auth.id_key = public_key_of(id_key.get());
    auth.id_block_sig = sign(id_key.get(), out.id_block);
    out.id_key_digest = snp_key_digest(auth.id_key);
    if (author_key_pem) {
        const auto author_key = read_key(*author_key_pem, true, "the author key");
        auth.author_key_algo = kSnpAlgoEcdsaP384Sha384;
        auth.author_key = public_key_of(author_key.get());
        // The author key vouches for the ID key: it signs the whole 0x404-byte
        // structure, the same bytes ID_KEY_DIGEST hashes.
        auth.id_key_sig = sign(author_key.get(), write_snp_public_key(auth.id_key));
        out.author_key_digest = snp_key_digest(auth.author_key);
    }
    out.id_auth = write_snp_id_auth(auth);
    return out;
}

std::string check_snp_id_signatures(ByteSpan id_block, const SnpIdAuth& auth, bool author_key_en) {
    if (!verifies(auth.id_key, auth.id_block_sig, id_block, "ID key"))
        return "ID_BLOCK_SIG does not verify with ID_KEY over the 96-byte ID block";
    if (!author_key_en) return {};
    if (!auth.has_author_key()) return "AUTHOR_KEY_EN is set but the structure has no author key (AUTH_KEY_ALGO 0)";
    if (!verifies(auth.author_key, auth.id_key_sig, write_snp_public_key(auth.id_key), "author key"))
        return "ID_KEY_SIG does not verify with AUTHOR_KEY over the 0x404-byte ID_KEY";
    return {};
}

} // namespace cvm::sev
