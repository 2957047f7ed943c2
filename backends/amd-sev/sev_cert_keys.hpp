// OpenSSL keys and signature checks for the SEV certificate formats, shared
// by the chain verifier and the owner's certificate writer.
#pragma once

#include <string>

#include "cvm/sev_cert.hpp"
#include "openssl_ptr.hpp"

namespace cvm::sev::certkeys {

// The P-384 public key of an SEV certificate. Throws a cvm::Error naming
// `role` if the point is not on the curve.
ossl::Pkey ec_public_key(const SevCertificate& cert, const std::string& role);

// The RSA public key of an ARK or ASK certificate.
ossl::Pkey rsa_public_key(const AmdSigningKey& key, const std::string& role);

// The digest an algorithm's name says (SHA-256 for 0x1..0x3, SHA-384 for
// 0x101..0x103).
const EVP_MD* digest_of(CertAlgo algo);

// ECDSA over `message` with r, s little-endian in 72-byte fields (the SEV
// signature layout). False if it does not verify.
bool verify_ecdsa(EVP_PKEY* key, const EVP_MD* md, ByteSpan message, ByteSpan r_le, ByteSpan s_le);

// RSA-PSS (MGF1 with the same digest, salt as long as the digest, as AMD
// signs; virtee/sev sets RsaPssSaltlen::DIGEST_LENGTH) over `message`, the
// signature little-endian. False if it does not verify.
bool verify_rsa_pss(EVP_PKEY* key, const EVP_MD* md, ByteSpan message, ByteSpan signature_le);

} // namespace cvm::sev::certkeys
