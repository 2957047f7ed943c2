#include "libcvm/reference/launch_facts.hpp"

#include <charconv>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::reference {

std::optional<std::string_view> config_value(const LaunchValues& values, std::string_view name) {
    for (const auto& field : values.config)
        if (field.name == name) return field.value;
    return std::nullopt;
}

namespace {

std::string_view required(const LaunchValues& values, std::string_view name) {
    auto value = config_value(values, name);
    if (!value)
        throw Error(fmt::format("the {} launch configuration has no \"{}\" field", values.technology, name));
    return *value;
}

// The config codec prints numbers of Radix::hex as "0x..." (config_codec.hpp).
std::uint64_t hex_number(std::string_view text, std::string_view name) {
    std::uint64_t value = 0;
    std::string_view digits = text.substr(text.starts_with("0x") ? 2 : 0);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
        throw Error(fmt::format("config field \"{}\": '{}' is not a hex number", name, text));
    return value;
}

} // namespace

RealmFacts realm_facts(const LaunchValues& values) {
    if (values.technology != "arm-cca")
        throw Error(fmt::format("{} has no realm initial measurement (arm-cca only)", values.technology));
    RealmFacts facts;
    facts.rim = values.measurement;
    facts.rpv = from_hex(required(values, "rpv"), "config field \"rpv\"");
    return facts;
}

SnpFacts snp_facts(const LaunchValues& values) {
    if (values.technology != "amd-sev-snp")
        throw Error(fmt::format("{} has no SNP launch measurement (amd-sev-snp only)", values.technology));
    SnpFacts facts;
    facts.measurement = values.measurement;
    facts.policy = hex_number(required(values, "policy"), "policy");
    if (auto host_data = config_value(values, "host-data"))
        facts.host_data = from_hex(*host_data, "config field \"host-data\"");
    return facts;
}

} // namespace cvm::reference
