// The facts each reference format needs, read once from a launch's values:
// a realm's RIM and RPV, an SNP launch's measurement, policy and HOST_DATA.
// The formats read these, never the configuration's text fields themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "cvm/reference_values.hpp"

namespace cvm::reference {

struct RealmFacts {
    Digest rim;
    // The four REMs where they are known. A launch prediction has none: the
    // realm extends them at run time, from zero.
    std::vector<Digest> rems;
    std::vector<std::uint8_t> rpv;  // the config's 64 bytes
};

struct SnpFacts {
    Digest measurement;  // SHA-384
    std::uint64_t policy = 0;
    std::vector<std::uint8_t> host_data;  // empty: not given (zeros)
};

// Throw an Error naming the technology when the values are not of it.
RealmFacts realm_facts(const LaunchValues& values);
SnpFacts snp_facts(const LaunchValues& values);

// The value of config field `name`, or nullopt.
std::optional<std::string_view> config_value(const LaunchValues& values, std::string_view name);

} // namespace cvm::reference
