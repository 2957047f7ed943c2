#include "sev_owner_commands.hpp"

#include <charconv>
#include <span>
#include <fstream>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "cvm/sev_cert.hpp"
#include "cvm/sev_owner.hpp"
#include "cvm/backend.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "exit_codes.hpp"
#include "key_files.hpp"
#include "lazy_options.hpp"
#include "value_format.hpp"

namespace cvmlaunch {
namespace {

using cvm::sev::Key128;

// Wipes a buffer of key or secret bytes when it goes out of scope, on the
// error paths too.
struct Wipe {
    std::span<std::uint8_t> bytes;
    ~Wipe() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// A secret needs a page or so (an OVMF secret table); the cap keeps
// /dev/zero-like inputs from being read without end.
constexpr std::uint64_t kMaxSecretSize = 1u << 20;

// A key file is read straight into the key: no intermediate copy to wipe.
// Like ssh with private keys, a key others can replace is refused; one that
// others can read is used with a warning (it may already be disclosed).
void read_key(const std::string& path, const char* what, Key128& key) {
    cvm::InputFile file(path, 4096);
    if (file.mode() & 022)
        throw cvm::Error(fmt::format("the {} file is writable by group or others (mode {:04o}): refusing a key "
                                     "that others could replace; chmod 600 it", what, file.mode()), 0, path);
    if (file.mode() & 044)
        fmt::print(stderr, "cvm-launch: warning: the {} file {} is readable by group or others (mode {:04o}); "
                           "keep transport keys private (chmod 600)\n", what, path, file.mode());
    if (file.size() != 16)
        throw cvm::Error(fmt::format("the {} file holds {} bytes, expected 16 raw bytes", what, file.size()), 0, path);
    try {
        file.read_all(key);
    } catch (...) {
        OPENSSL_cleanse(key.data(), key.size());  // a partial key is still key material
        throw;
    }
}

std::uint32_t parse_u32(const std::string& text, const char* option) {
    return static_cast<std::uint32_t>(cvm::parse_unsigned(text, option, 0, 0xffffffff));
}

cvm::sev::PlatformVersion parse_version(const std::string& api, unsigned build) {
    auto dot = api.find('.');
    if (dot == std::string::npos) throw cvm::Error(fmt::format("--api '{}': expected MAJOR.MINOR", api), 0, "--api");
    auto major = parse_u32(api.substr(0, dot), "--api"), minor = parse_u32(api.substr(dot + 1), "--api");
    if (major > 255 || minor > 255 || build > 255) throw cvm::Error("--api and --build are bytes (0-255)", 0, "--api");
    return {static_cast<std::uint8_t>(major), static_cast<std::uint8_t>(minor), static_cast<std::uint8_t>(build)};
}

} // namespace

void SevOwnerCommands::add_to(CLI::App& app) {
    verify_ = app.add_subcommand("verify-measurement",
                                 "AMD SEV guest owner: check a LAUNCH_MEASURE blob against the predicted launch digest");
    spec_.add_to(*verify_);
    add_options_when_chosen(*verify_, [this](CLI::App& c) {
        c.footer(kExitCodeHelp);
        c.add_option("--measurement", measurement, "The 48-byte LAUNCH_MEASURE blob (MEASURE || MNONCE), hex")->required();
        c.add_option("--tik-file", tik_file, "File with the 16-byte transport integrity key")->required();
        c.add_option("--api", api_version, "SEV API version of the platform, MAJOR.MINOR (PLATFORM_STATUS)")->required();
        c.add_option("--build", build, "SEV firmware build (PLATFORM_STATUS)")->required();
        c.add_option("--launch-digest", launch_digest,
                     "Expected launch digest (hex or base64) instead of predicting it from --tech/--firmware/...");
    });

    secret_ = app.add_subcommand("make-secret", "AMD SEV guest owner: wrap a secret into a LAUNCH_SECRET packet");
    add_options_when_chosen(*secret_, [this](CLI::App& c) {
        c.add_option("--measurement", measurement, "The verified LAUNCH_MEASURE blob (48 bytes) or MEASURE (32), hex")
            ->required();
        c.add_option("--tek-file", tek_file, "File with the 16-byte transport encryption key")->required();
        c.add_option("--tik-file", tik_file, "File with the 16-byte transport integrity key")->required();
        c.add_option("--secret-file", secret_file, "The secret (a multiple of 16 bytes, e.g. an OVMF secret table)")
            ->required();
        c.add_option("--iv", iv, "16-byte IV, hex (default: random)");
        c.add_option("--flags", flags, "Packet header flags (default 0)");
        c.add_option("--header-out", header_out, "Write the 52-byte packet header here")->required();
        c.add_option("--secret-out", secret_out, "Write the ciphertext here")->required();
    });

    session_ = app.add_subcommand("make-session",
                                  "AMD SEV guest owner: make the LAUNCH_START session for a platform's PDH "
                                  "(run's --owner-session) and the transport keys owner-reply needs");
    add_options_when_chosen(*session_, [this](CLI::App& c) {
        c.add_option("--pdh", pdh_file, "The platform's PDH certificate (check it with verify-pdh-chain first)")
            ->required();
        c.add_option("--key", owner_key_file, "Your P-384 private key, PEM (the key of make-dh-cert's certificate)")
            ->required();
        c.add_option("--policy", session_policy, "The guest policy the session is made for (default 0x1)");
        c.add_option("--session-out", session_out, "Write the 128-byte session blob here")->required();
        c.add_option("--tik-out", tik_out, "Write the new 16-byte TIK here (mode 0600)")->required();
        c.add_option("--tek-out", tek_out, "Write the new 16-byte TEK here (mode 0600)")->required();
        c.footer(kExitCodeHelp);
    });

    reply_ = app.add_subcommand("owner-reply",
                                "AMD SEV guest owner: answer a launch's round-trip request (run --owner-command): "
                                "verify its LAUNCH_MEASURE, then wrap the secret for it, or refuse");
    reply_spec_.add_to(*reply_);
    add_options_when_chosen(*reply_, [this](CLI::App& c) {
        c.footer("Prints one JSON line, the reply: {\"action\":\"inject\",...} or \"finish\" when the launch is "
                 "proven (exit 0), {\"action\":\"abort\",...} when it is not (exit 3). docs/amd-sev.md, \"The owner "
                 "round trip\".\n\n" + std::string(kExitCodeHelp));
        c.add_option("--request", request_file, "File with the launch's JSON request line ('-': stdin, the default)");
        c.add_option("--tik-file", tik_file, "File with the 16-byte transport integrity key")->required();
        c.add_option("--tek-file", tek_file, "File with the 16-byte transport encryption key (needed with a secret)");
        c.add_option("--secret-file", secret_file,
                     "The secret (a multiple of 16 bytes); without it a proven launch finishes without one");
        c.add_option("--launch-digest", launch_digest,
                     "Expected launch digest (hex or base64) instead of predicting it from --tech/--firmware/...");
        c.add_option("--iv", iv, "16-byte IV, hex (default: random)");
        c.add_option("--flags", flags, "Packet header flags (default 0)");
    });
}

// The digest and policy a launch must prove: given, or predicted from the spec.
std::vector<std::uint8_t> SevOwnerCommands::expected_digest(const SpecOptions& spec_options,
                                                            std::uint32_t& policy_value) const {
    if (!launch_digest.empty()) {
        auto it = spec_options.backend_options.find("policy");
        policy_value = parse_u32(it != spec_options.backend_options.end() && !it->second.empty() ? it->second : policy,
                                 "--policy");
        return parse_measurement(launch_digest, "--launch-digest");
    }
    auto spec = spec_options.to_spec();
    if (spec.technology != "amd-sev" && spec.technology != "amd-sev-es")
        throw cvm::Error(fmt::format("the guest owner checks AMD SEV and SEV-ES launches, not '{}'", spec.technology));
    const auto& backend = cvm::find_backend(spec.technology);
    auto options = cvm::resolve_options(backend, spec);
    policy_value = parse_u32(options.at("policy"), "--policy");
    auto predicted = backend.predict(backend.build_plan(spec));
    return {predicted.value.bytes().begin(), predicted.value.bytes().end()};
}

bool SevOwnerCommands::run_if_parsed(int& exit_code) const {
    if (verify_ && verify_->parsed()) { exit_code = verify(); return true; }
    if (reply_ && reply_->parsed()) { exit_code = owner_reply(); return true; }
    if (session_ && session_->parsed()) { exit_code = make_session(); return true; }
    if (secret_ && secret_->parsed()) { exit_code = make_secret(); return true; }
    return false;
}

int SevOwnerCommands::verify() const {
    std::uint32_t policy_value = 0;
    const auto digest = expected_digest(spec_, policy_value);
    auto blob = cvm::from_hex(measurement, "--measurement");
    Key128 tik{};
    Wipe wipe_tik{tik};
    read_key(tik_file, "TIK", tik);
    auto version = parse_version(api_version, build);
    bool ok = cvm::sev::verify_launch_measure(tik, version, policy_value, digest, blob);
    if (spec_.json) {
        nlohmann::ordered_json j{{"verified", ok}, {"launch_digest", cvm::to_hex(digest)}, {"policy", policy_value}};
        fmt::print("{}\n", j.dump(2));
    } else {
        fmt::print("{}: launch digest {}\n", ok ? "verified" : "MISMATCH", cvm::to_hex(digest));
    }
    if (!ok) fmt::print(stderr, "cvm-launch: the LAUNCH_MEASURE blob does not prove this launch digest "
                                "(wrong TIK, platform version, policy or launch)\n");
    return ok ? 0 : kExitMismatch;
}

int SevOwnerCommands::make_secret() const {
    auto blob = cvm::from_hex(measurement, "--measurement");
    if (blob.size() != 48 && blob.size() != 32)
        throw cvm::Error(fmt::format("--measurement: {} bytes, expected 48 (blob) or 32 (MEASURE)", blob.size()));
    Key128 iv_bytes{};
    if (iv.empty()) {
        iv_bytes = cvm::sev::TransportKeys::random().tek;  // 16 fresh random bytes
    } else {
        auto parsed = cvm::from_hex(iv, "--iv");
        if (parsed.size() != 16) throw cvm::Error("--iv: expected 16 bytes of hex", 0, "--iv");
        std::copy(parsed.begin(), parsed.end(), iv_bytes.begin());
    }
    cvm::sev::TransportKeys keys;
    read_key(tek_file, "TEK", keys.tek);  // keys' destructor wipes them on every path
    read_key(tik_file, "TIK", keys.tik);
    auto secret = cvm::read_input_file(secret_file, kMaxSecretSize);
    Wipe wipe_secret{secret};
    auto packet = cvm::sev::make_secret_packet(keys, cvm::ByteSpan(blob).first(32), secret, flags, iv_bytes);
    write_all(header_out, packet.header);
    write_all(secret_out, packet.ciphertext);
    fmt::print("wrote {} ({} bytes) and {} ({} bytes)\n", header_out, packet.header.size(), secret_out,
               packet.ciphertext.size());
    return 0;
}

int SevOwnerCommands::owner_reply() const {
    std::uint32_t policy_value = 0;
    const auto digest = expected_digest(reply_spec_, policy_value);
    std::string text;
    if (request_file == "-") {
        std::getline(std::cin, text);
        if (text.empty()) throw cvm::Error("no request line on stdin", 0, "owner-reply");
    } else {
        auto bytes = cvm::read_input_file(request_file, 1u << 20);
        text.assign(bytes.begin(), bytes.end());
        if (auto end = text.find('\n'); end != std::string::npos) text.resize(end);
    }
    const auto request = cvm::sev::parse_secret_request(text);

    cvm::sev::TransportKeys keys;  // the destructor wipes them on every path
    read_key(tik_file, "TIK", keys.tik);
    std::vector<std::uint8_t> secret;
    Wipe wipe_secret{secret};
    if (!secret_file.empty()) {
        if (tek_file.empty()) throw UsageError("--secret-file needs --tek-file: the secret is encrypted with the TEK");
        read_key(tek_file, "TEK", keys.tek);
        secret = cvm::read_input_file(secret_file, kMaxSecretSize);
        wipe_secret.bytes = secret;
    }
    std::optional<Key128> iv_bytes;
    if (!iv.empty()) {
        auto parsed = cvm::from_hex(iv, "--iv");
        if (parsed.size() != 16) throw cvm::Error("--iv: expected 16 bytes of hex", 0, "--iv");
        iv_bytes.emplace();
        std::copy(parsed.begin(), parsed.end(), iv_bytes->begin());
    }

    const auto reply = cvm::sev::answer_secret_request(request, keys, digest, policy_value, secret, flags, iv_bytes);
    fmt::print("{}\n", cvm::sev::to_json(reply));
    if (reply.action == cvm::sev::SecretReply::Action::abort) {
        fmt::print(stderr, "cvm-launch: refused the launch: {}\n", reply.reason);
        return kExitMismatch;
    }
    return 0;
}

int SevOwnerCommands::make_session() const {
    const auto pdh_bytes = cvm::read_input_file(pdh_file, cvm::sev::kSevCertSize + 1);
    const auto pdh = cvm::sev::parse_sev_certificate(pdh_bytes, pdh_file, cvm::sev::CertUsage::pdh);
    const PrivatePem key(owner_key_file);
    std::vector<std::uint8_t> shared = cvm::sev::ecdh_p384(key.text, cvm::sev::sev_certificate_public_key_pem(pdh));
    Wipe wipe_shared{shared};
    const auto keys = cvm::sev::TransportKeys::random();  // wiped by its destructor
    const auto nonce = cvm::sev::TransportKeys::random().tek, wrap_iv = cvm::sev::TransportKeys::random().tek;
    const auto session = cvm::sev::make_launch_session(keys, shared, parse_u32(session_policy, "--policy"), nonce, wrap_iv);
    write_private(tik_out, keys.tik);
    write_private(tek_out, keys.tek);
    write_all(session_out, session);
    fmt::print("wrote {} (the session for LAUNCH_START), {} and {} (the transport keys; keep them private)\n",
               session_out, tik_out, tek_out);
    return 0;
}

} // namespace cvmlaunch
