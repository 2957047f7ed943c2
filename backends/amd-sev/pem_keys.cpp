#include "pem_keys.hpp"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "cvm/error.hpp"

namespace cvm::sev {

ossl::Pkey read_pem_key(const std::string& pem, bool need_private, const std::string& what) {
    ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw Error("out of memory reading a PEM key");
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (!key && !need_private) {
        // Not a private key: maybe a public one, all a peer or a check needs.
        ossl::Bio again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        if (again) key = PEM_read_bio_PUBKEY(again.get(), nullptr, nullptr, nullptr);
    }
    if (!key) throw Error(fmt::format("{}: not a PEM {}", what, need_private ? "private key" : "private or public key"));
    return ossl::Pkey(key);
}

void require_p384(EVP_PKEY* key, const std::string& what) {
    char group[64] = {};
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr) != 1 ||
        std::string(group) != "secp384r1")
        throw Error(fmt::format("{}: an EC key on P-384 (secp384r1) is needed, not {}", what,
                                group[0] ? group : "a key of another type"));
}

} // namespace cvm::sev
