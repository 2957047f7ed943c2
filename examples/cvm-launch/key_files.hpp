// Key and output files of cvm-launch's owner commands (make-dh-cert,
// snp-id-block, verify-report's public keys).
#pragma once

#include <cstdint>
#include <string>

#include "cvm/bytes.hpp"

namespace cvmlaunch {

// A PEM key is a few hundred bytes; the cap keeps a wrong path from being
// read without end.
inline constexpr std::uint64_t kMaxKeyFile = 64 * 1024;

// A private key, checked as ssh checks one: a key others can replace is
// refused, one others can read is used with a warning. The copy is wiped
// when it goes out of scope.
struct PrivatePem {
    std::string text;
    explicit PrivatePem(const std::string& path);
    ~PrivatePem();
    PrivatePem(const PrivatePem&) = delete;
    PrivatePem& operator=(const PrivatePem&) = delete;
};

// A public key (or a certificate-free PEM of either kind): no secrecy asked.
std::string read_public_pem(const std::string& path);

// Writes `bytes` to `path`, replacing it; throws a cvm::Error naming it.
void write_all(const std::string& path, cvm::ByteSpan bytes);
// The same for key material: the file is created (or truncated) with mode
// 0600 and never exists readable by others, whatever the umask.
void write_private(const std::string& path, cvm::ByteSpan bytes);

} // namespace cvmlaunch
