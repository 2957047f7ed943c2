// libFuzzer target for the SEV guest owner's inputs (backends/amd-sev/
// guest_owner): the LAUNCH_MEASURE blob and the parameters it is checked
// with, the secret wrapped for LAUNCH_SECRET, the platform's public key in
// PEM for the session's ECDH, and the hex the CLI reads blobs and IVs from.
// The first byte picks the path. Properties checked beside "no crash": a blob
// made with the same parameters verifies and any other does not; a packet's
// ciphertext decrypts to the secret.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cvm/sev_owner.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"

namespace {

using cvm::sev::Key128;

// Our side of the ECDH: a fresh P-384 key in PEM, made once.
std::string our_private_pem() {
    EVP_PKEY* key = EVP_EC_gen("P-384");
    BIO* bio = BIO_new(BIO_s_mem());
    if (!key || !bio || PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        __builtin_trap();
    char* text = nullptr;
    long n = BIO_get_mem_data(bio, &text);
    std::string pem(text, static_cast<std::size_t>(n));
    BIO_free(bio);
    EVP_PKEY_free(key);
    return pem;
}

// Takes n bytes from the front of the input (zeros once it runs out).
struct Reader {
    const std::uint8_t* p;
    std::size_t left;
    template <std::size_t N> std::array<std::uint8_t, N> take() {
        std::array<std::uint8_t, N> out{};
        std::size_t n = std::min(N, left);
        std::copy(p, p + n, out.begin());
        p += n;
        left -= n;
        return out;
    }
    std::uint32_t u32() {
        auto b = take<4>();
        return b[0] | b[1] << 8 | b[2] << 16 | static_cast<std::uint32_t>(b[3]) << 24;
    }
    cvm::ByteSpan rest() const { return {p, left}; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > (64u << 10)) return 0;
    Reader in{data + 1, size - 1};
    try {
        switch (data[0] % 4) {
        case 0: {  // the LAUNCH_MEASURE blob against a launch digest
            Key128 tik = in.take<16>();
            auto v = in.take<3>();
            cvm::sev::PlatformVersion version{v[0], v[1], v[2]};
            std::uint32_t policy = in.u32();
            auto digest = in.take<32>();
            cvm::ByteSpan blob = in.rest();
            bool ok = cvm::sev::verify_launch_measure(tik, version, policy, digest, blob);
            // Only the blob the firmware would make for these inputs proves them.
            auto mac = cvm::sev::launch_measure_mac(tik, version, policy, digest, blob.subspan(32, 16));
            if (ok != std::equal(mac.begin(), mac.end(), blob.begin(), blob.begin() + 32)) __builtin_trap();
            break;
        }
        case 1: {  // a secret wrapped for LAUNCH_SECRET
            cvm::sev::TransportKeys keys;
            keys.tek = in.take<16>();
            keys.tik = in.take<16>();
            Key128 iv = in.take<16>();
            std::uint32_t flags = in.u32();
            auto measure = in.take<32>();
            cvm::ByteSpan secret = in.rest();
            auto packet = cvm::sev::make_secret_packet(keys, measure, secret, flags, iv);
            auto plain = cvm::sev::aes128_ctr(keys.tek, iv, packet.ciphertext);
            if (!std::equal(plain.begin(), plain.end(), secret.begin(), secret.end())) __builtin_trap();
            break;
        }
        case 2: {  // the platform's public key in PEM
            static const std::string ours = our_private_pem();
            std::string peer(reinterpret_cast<const char*>(in.p), in.left);
            auto z = cvm::sev::ecdh_p384(ours, peer);
            if (z.size() != 48) __builtin_trap();
            break;
        }
        default: {  // hex as the CLI reads --measurement and --iv
            std::string text(reinterpret_cast<const char*>(in.p), in.left);
            auto bytes = cvm::from_hex(text, "--measurement");
            if (cvm::to_hex(bytes) != [&] {
                    std::string lower = text;
                    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
                    return lower;
                }())
                __builtin_trap();
            break;
        }
        }
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
