// P-384 keys from PEM text, for every guest-owner tool of the AMD backend
// (the session's ECDH, the owner's DH certificate, the SNP ID block).
#pragma once

#include <string>

#include "openssl_ptr.hpp"

namespace cvm::sev {

// A private key, or, unless `need_private`, a public one. Throws a
// cvm::Error naming `what`.
ossl::Pkey read_pem_key(const std::string& pem, bool need_private, const std::string& what);

// Throws a cvm::Error naming `what` for any key but an EC key on P-384.
void require_p384(EVP_PKEY* key, const std::string& what);

} // namespace cvm::sev
