// The guest owner's side of an SEV launch, which needs no SEV hardware:
// checking the LAUNCH_MEASURE blob against a predicted launch digest,
// wrapping a secret for LAUNCH_SECRET, and building the LAUNCH_START session
// blob that hands the transport keys (TEK, TIK) to the firmware.
// Formulas: docs/amd-sev.md, "Measurement blob and HMAC" and "Secret packet
// and session blob". Keys and plaintext copies are wiped after use. Public:
// a guest owner's tool (cvm-launch's verify-measurement and make-secret
// among them) needs only this header and libcvm.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cvm/bytes.hpp"

namespace cvm::sev {

using Key128 = std::array<std::uint8_t, 16>;

// The transport keys; the destructor wipes them.
struct TransportKeys {
    Key128 tek{};  // encryption key
    Key128 tik{};  // integrity key
    ~TransportKeys();
    static TransportKeys random();
};

struct PlatformVersion {
    std::uint8_t api_major = 0, api_minor = 0, build = 0;
};

// MEASURE = HMAC-SHA256(TIK, 0x04 || api_major || api_minor || build ||
// policy (u32 LE) || launch digest || mnonce).
std::array<std::uint8_t, 32> launch_measure_mac(const Key128& tik, PlatformVersion version, std::uint32_t policy,
                                                ByteSpan launch_digest, ByteSpan mnonce);

// Checks the 48-byte LAUNCH_MEASURE blob (MEASURE || MNONCE) in constant time.
// Throws on malformed sizes; returns whether the blob proves `launch_digest`.
bool verify_launch_measure(const Key128& tik, PlatformVersion version, std::uint32_t policy, ByteSpan launch_digest,
                           ByteSpan blob);

// A LAUNCH_SECRET packet: the 52-byte header {flags, iv, mac} and the ciphertext.
struct SecretPacket {
    std::array<std::uint8_t, 52> header{};
    std::vector<std::uint8_t> ciphertext;
};

// The largest LAUNCH_SECRET payload: KVM copies the packet with
// psp_copy_user_blob, which refuses more than SEV_FW_BLOB_MAX_SIZE (16 KiB,
// include/linux/psp-sev.h), so a larger secret could never be injected.
inline constexpr std::size_t kMaxLaunchSecretBytes = 16 * 1024;

// Throws unless `secret` is a positive multiple of 16 bytes of at most
// kMaxLaunchSecretBytes.
void check_launch_secret(ByteSpan secret);

// ciphertext = AES-128-CTR(TEK, iv, secret); mac = HMAC-SHA256(TIK, 0x01 ||
// flags || iv || len(secret) || len(ciphertext) || ciphertext || MEASURE).
// `measure` is the 32-byte MEASURE of the launch the secret is for; the
// secret is a positive multiple of 16 bytes, at most kMaxLaunchSecretBytes.
SecretPacket make_secret_packet(const TransportKeys& keys, ByteSpan measure, ByteSpan secret, std::uint32_t flags,
                                const Key128& iv);

// The 128-byte LAUNCH_START session blob, from the ECDH shared secret Z
// with the platform's PDH: nonce || wrap_tk || wrap_iv || wrap_mac || policy_mac.
std::array<std::uint8_t, 128> make_launch_session(const TransportKeys& keys, ByteSpan shared_secret,
                                                  std::uint32_t policy, const Key128& nonce, const Key128& wrap_iv);

// NIST SP 800-108 counter-mode KDF with HMAC-SHA256, 16 bytes of output:
// HMAC(key, 1 (u32 LE) || label || 0x00 || context || 128 (u32 LE))[0..16).
Key128 sev_kdf(ByteSpan key, std::string_view label, ByteSpan context);

// ECDH on P-384: the x coordinate of our_private * peer_public, both given
// as OpenSSL keys in PEM. Returned big-endian, as OpenSSL derives it.
std::vector<std::uint8_t> ecdh_p384(const std::string& private_pem, const std::string& peer_public_pem);

// AES-128-CTR, used by the packet and the session (encrypt = decrypt).
std::vector<std::uint8_t> aes128_ctr(const Key128& key, const Key128& iv, ByteSpan data);

// ---- The owner round trip of a launch (RunOptions::owner) ----
// Between LAUNCH_MEASURE and LAUNCH_FINISH an SEV or SEV-ES launch sends its
// guest owner one JSON request and acts on one JSON reply (one line each
// over a channel; docs/amd-sev.md, "The owner round trip").

// What the launch shows the owner: everything verify_launch_measure needs
// besides the TIK and the predicted digest.
struct SecretRequest {
    std::string technology;                 // "amd-sev" or "amd-sev-es"
    std::array<std::uint8_t, 48> measure{};  // the LAUNCH_MEASURE blob, MEASURE || MNONCE
    PlatformVersion version;                // PLATFORM_STATUS of the host's firmware
    std::uint32_t policy = 0;
    // Where a secret may go: the firmware's SEV secret area (OVMF's
    // SEV_SECRET_BLOCK); none when the firmware has none.
    std::optional<std::uint64_t> secret_gpa, secret_size;
};

// The owner's answer: finish without a secret, inject one, or refuse.
struct SecretReply {
    enum class Action { finish, inject, abort };
    Action action = Action::finish;
    SecretPacket packet;                // inject: LAUNCH_SECRET's header and ciphertext
    std::optional<std::uint64_t> gpa;   // inject: target; default the request's secret area
    std::string reason;                 // abort: why, shown in the launch's error
};

std::string to_json(const SecretRequest& request);
std::string to_json(const SecretReply& reply);
// Both parsers take outside bytes (the other end of a channel): they refuse,
// naming the field and what was expected, anything but the documented
// object (unknown keys, wrong types, sizes, a secret not a positive
// multiple of 16 bytes).
SecretRequest parse_secret_request(std::string_view json);
SecretReply parse_secret_reply(std::string_view json);

// The owner's whole answer to a request: checks that the launch runs under
// `expected_policy` (the MAC binds the policy the firmware enforces, but the
// owner must want it) and that MEASURE proves `launch_digest` with the TIK;
// if so, wraps `secret` (empty: finish without one) for that launch,
// otherwise an abort reply that says why. `iv` empty: random.
SecretReply answer_secret_request(const SecretRequest& request, const TransportKeys& keys, ByteSpan launch_digest,
                                  std::uint32_t expected_policy, ByteSpan secret, std::uint32_t flags = 0,
                                  std::optional<Key128> iv = std::nullopt);

} // namespace cvm::sev
