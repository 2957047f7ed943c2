// The arm-cca backend's options and what they mean for the realm.
//
// Host capabilities (ipa-bits, num-bps, num-wps, pmu-counters, sve-vl) have
// the meaning of cca-realm-measurements' host options of the same names:
// counts and bits as the hardware has them, not RMM encodings. The realm
// gets the minimum of the host's limit and what the layout asks for.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backends/arm-cca/rim.hpp"
#include "cvm/backend.hpp"

namespace cvm::cca {

std::vector<OptionInfo> realm_option_infos();

struct RealmOptions {
    RmmVersion rmm = RmmVersion::v1_0;
    std::string layout = "libcvm";
    std::optional<HashAlgorithm> hash;      // absent: the layout's default
    std::array<std::uint8_t, 64> rpv{};     // most significant byte first, zero padded
    std::optional<unsigned> ipa_bits;       // host limit
    unsigned num_bps = 6;
    unsigned num_wps = 6;
    bool pmu = false;
    std::optional<unsigned> pmu_counters;
    unsigned sve_vl = 0;                    // bits; 0: no SVE
    std::string abi = "auto";              // host ABI the launcher speaks
};

// Parses resolved options (defaults filled in); throws naming the option.
RealmOptions parse_realm_options(const std::map<std::string, std::string>& options);

// The measured realm parameters for a VMM asking for `layout_ipa_bits`.
RealmParams realm_params(const RealmOptions& options, unsigned layout_ipa_bits, HashAlgorithm algorithm);

std::string_view to_string(RmmVersion version);

} // namespace cvm::cca
