// The JSON messages of an SEV launch's owner round trip (cvm/sev_owner.hpp).
// The reply comes from outside the host's trust (a guest owner's service,
// or whatever holds the other end of the channel), so parsing is strict: a
// fixed set of keys with fixed types, hex of fixed lengths, and errors that
// name the key.
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/sev_owner.hpp"

namespace cvm::sev {
namespace {

using Json = nlohmann::json;
constexpr const char* kWhere = "owner message";

[[noreturn]] void refuse(const std::string& what) { throw Error(what, 0, kWhere); }

Json parse_object(std::string_view text, const char* what, const std::set<std::string>& allowed,
                  const std::set<std::string>& required) {
    Json j = Json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) refuse(fmt::format("the {} is not one JSON object", what));
    for (const auto& [key, value] : j.items())
        if (!allowed.count(key)) refuse(fmt::format("the {} has an unknown key '{}'", what, key));
    for (const auto& key : required)
        if (!j.contains(key)) refuse(fmt::format("the {} lacks '{}'", what, key));
    return j;
}

std::uint64_t unsigned_field(const Json& j, const char* key, std::uint64_t max) {
    const Json& v = j.at(key);
    if (!v.is_number_unsigned()) refuse(fmt::format("'{}' is not a non-negative integer", key));
    auto n = v.get<std::uint64_t>();
    if (n > max) refuse(fmt::format("'{}' is {}, at most {}", key, n, max));
    return n;
}

std::string string_field(const Json& j, const char* key) {
    const Json& v = j.at(key);
    if (!v.is_string()) refuse(fmt::format("'{}' is not a string", key));
    return v.get<std::string>();
}

std::vector<std::uint8_t> hex_field(const Json& j, const char* key) {
    try {
        return from_hex(string_field(j, key), key);
    } catch (const Error& e) {
        refuse(fmt::format("'{}': {}", key, e.what()));
    }
}

template <std::size_t N>
std::array<std::uint8_t, N> fixed_hex(const Json& j, const char* key) {
    auto bytes = hex_field(j, key);
    if (bytes.size() != N) refuse(fmt::format("'{}' holds {} bytes, expected {}", key, bytes.size(), N));
    std::array<std::uint8_t, N> out{};
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

std::uint8_t byte_field(const Json& j, const char* key) { return static_cast<std::uint8_t>(unsigned_field(j, key, 255)); }

} // namespace

std::string to_json(const SecretRequest& r) {
    nlohmann::ordered_json j{{"technology", r.technology},
                             {"measure", to_hex(r.measure)},
                             {"api_major", r.version.api_major},
                             {"api_minor", r.version.api_minor},
                             {"build", r.version.build},
                             {"policy", r.policy}};
    if (r.secret_gpa) j["secret_gpa"] = *r.secret_gpa;
    if (r.secret_size) j["secret_size"] = *r.secret_size;
    return j.dump();
}

std::string to_json(const SecretReply& r) {
    nlohmann::ordered_json j;
    switch (r.action) {
    case SecretReply::Action::finish: j["action"] = "finish"; break;
    case SecretReply::Action::abort:
        j["action"] = "abort";
        j["reason"] = r.reason;
        break;
    case SecretReply::Action::inject:
        j["action"] = "inject";
        j["header"] = to_hex(r.packet.header);
        j["secret"] = to_hex(r.packet.ciphertext);
        if (r.gpa) j["gpa"] = *r.gpa;
        break;
    }
    return j.dump();
}

SecretRequest parse_secret_request(std::string_view text) {
    Json j = parse_object(text, "owner request",
                          {"technology", "measure", "api_major", "api_minor", "build", "policy", "secret_gpa", "secret_size"},
                          {"technology", "measure", "api_major", "api_minor", "build", "policy"});
    SecretRequest r;
    r.technology = string_field(j, "technology");
    if (r.technology != "amd-sev" && r.technology != "amd-sev-es")
        refuse(fmt::format("'technology' is '{}', expected amd-sev or amd-sev-es (only they have LAUNCH_SECRET)",
                           r.technology));
    r.measure = fixed_hex<48>(j, "measure");
    r.version = {byte_field(j, "api_major"), byte_field(j, "api_minor"), byte_field(j, "build")};
    r.policy = static_cast<std::uint32_t>(unsigned_field(j, "policy", 0xffffffff));
    if (j.contains("secret_gpa") != j.contains("secret_size"))
        refuse("'secret_gpa' and 'secret_size' come together");
    if (j.contains("secret_gpa")) {
        r.secret_gpa = unsigned_field(j, "secret_gpa", ~std::uint64_t{0});
        r.secret_size = unsigned_field(j, "secret_size", ~std::uint64_t{0} - *r.secret_gpa);
    }
    return r;
}

SecretReply parse_secret_reply(std::string_view text) {
    Json j = parse_object(text, "owner reply", {"action", "header", "secret", "gpa", "reason"}, {"action"});
    SecretReply r;
    auto action = string_field(j, "action");
    auto only = [&](const std::set<std::string>& keys) {
        for (const auto& [key, value] : j.items())
            if (key != "action" && !keys.count(key))
                refuse(fmt::format("'{}' has no place in an '{}' reply", key, action));
    };
    if (action == "finish") {
        only({});
        r.action = SecretReply::Action::finish;
    } else if (action == "abort") {
        only({"reason"});
        r.action = SecretReply::Action::abort;
        if (j.contains("reason")) r.reason = string_field(j, "reason");
    } else if (action == "inject") {
        only({"header", "secret", "gpa"});
        if (!j.contains("header") || !j.contains("secret")) refuse("an 'inject' reply needs 'header' and 'secret'");
        r.action = SecretReply::Action::inject;
        r.packet.header = fixed_hex<52>(j, "header");
        r.packet.ciphertext = hex_field(j, "secret");
        auto n = r.packet.ciphertext.size();
        if (n == 0 || n % 16 != 0 || n > kMaxLaunchSecretBytes)
            refuse(fmt::format("'secret' holds {} bytes, expected a positive multiple of 16 up to {}", n, kMaxLaunchSecretBytes));
        if (j.contains("gpa")) r.gpa = unsigned_field(j, "gpa", ~std::uint64_t{0} - n);
    } else {
        refuse(fmt::format("'action' is '{}', expected finish, inject or abort", action));
    }
    return r;
}

SecretReply answer_secret_request(const SecretRequest& request, const TransportKeys& keys, ByteSpan launch_digest,
                                  std::uint32_t expected_policy, ByteSpan secret, std::uint32_t flags,
                                  std::optional<Key128> iv) {
    // A secret that could never be injected is the owner's mistake, whatever
    // the launch proves.
    if (!secret.empty()) check_launch_secret(secret);
    SecretReply reply;
    if (request.policy != expected_policy) {
        reply.action = SecretReply::Action::abort;
        reply.reason = fmt::format("the launch has policy {:#x}, the owner expects {:#x}", request.policy, expected_policy);
        return reply;
    }
    if (!verify_launch_measure(keys.tik, request.version, request.policy, launch_digest, request.measure)) {
        reply.action = SecretReply::Action::abort;
        reply.reason = fmt::format("LAUNCH_MEASURE does not prove launch digest {} (wrong TIK, platform version, "
                                   "policy or launch)", to_hex(launch_digest));
        return reply;
    }
    if (secret.empty()) return reply;
    if (request.secret_size && secret.size() > *request.secret_size)
        throw Error(fmt::format("the secret has {} bytes, the launch's secret area {}", secret.size(), *request.secret_size));
    reply.action = SecretReply::Action::inject;
    reply.packet = make_secret_packet(keys, ByteSpan(request.measure).first(32), secret, flags,
                                      iv ? *iv : TransportKeys::random().tek);
    return reply;
}

} // namespace cvm::sev
