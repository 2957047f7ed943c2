// SEV and AMD signing-key certificates from anyone (a platform's export, a
// download): each parser either refuses the bytes with a cvm::Error or
// returns a certificate whose fields lie inside them, and a parsed SEV
// certificate writes back to the same bytes. The first byte picks the
// parser, so one corpus covers both.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "cvm/error.hpp"
#include "cvm/sev_cert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const cvm::ByteSpan bytes(data + 1, size - 1);
    try {
        if (data[0] & 1) {
            const auto cert = cvm::sev::parse_sev_certificate(bytes, "fuzz");
            const auto written = cvm::sev::write_sev_certificate(cert);
            if (!std::equal(written.begin(), written.end(), bytes.begin(), bytes.end())) std::abort();
        } else {
            const auto usage = (data[0] & 2) ? cvm::sev::CertUsage::ask : cvm::sev::CertUsage::ark;
            const auto key = cvm::sev::parse_amd_signing_key(bytes, "fuzz", usage);
            if (key.signed_bytes.size() + key.signature.size() != bytes.size() ||
                key.modulus.size() * 8 != key.modulus_bits || key.pubexp.size() * 8 != key.pubexp_bits)
                std::abort();
        }
    } catch (const cvm::Error&) {
    }
    return 0;
}
