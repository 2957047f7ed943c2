#include "backends/arm-cca/realm_options.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/spec.hpp"

namespace cvm::cca {
namespace {

unsigned parse_bounded(const std::string& key, const std::string& text, unsigned lo, unsigned hi) {
    return static_cast<unsigned>(cvm::parse_unsigned(text, fmt::format("option {}", key), lo, hi));
}

} // namespace

std::string_view to_string(RmmVersion version) { return version == RmmVersion::v1_0 ? "1.0" : "2.0"; }

std::vector<OptionInfo> realm_option_infos() {
    return {
        {"rmm", "RMM specification the host runs: 1.0 measures RIPAS ranges into the RIM, 2.0 does not", "1.0",
         {"1.0", "2.0"}},
        {"layout", "VMM layout to reproduce: libcvm's own, kvmtool-cca's or QEMU virt's (for predicting "
                   "realms those VMMs launch)", "libcvm", {"libcvm", "kvmtool", "qemu"}},
        {"hash", "realm measurement algorithm (default: sha256 for libcvm and kvmtool, sha512 for qemu)", "",
         {"sha256", "sha512"}},
        {"rpv", "realm personalization value, hex, most significant byte first, at most 64 bytes (default zero)",
         "", {}},
        {"ipa-bits", "host limit on the IPA width (default: none; the layout's width is used)", "", {}, OptionKind::number},
        {"num-bps", "host breakpoint count (2-64) given to the realm", "6", {}, OptionKind::number},
        {"num-wps", "host watchpoint count (2-64) given to the realm", "6", {}, OptionKind::number},
        {"pmu", "give the realm a PMU", "off", {"off", "on"}},
        {"pmu-counters", "host PMU counter count (0-31), required with pmu=on", "", {}, OptionKind::number},
        {"sve-vl", "SVE vector length in bits (multiple of 128 up to 2048; 0: no SVE)", "0", {}, OptionKind::number},
        {"abi", "KVM host ABI for run: rme-v6 or rme-v7 (KVM_CAP_ARM_RME of host series v5-v7, one ABI, RMM 1.0), "
                "rmi-v12/v13/v14 (KVM_CAP_ARM_RMI, RMM 2.0); auto probes the host", "auto",
         {"auto", "rme-v6", "rme-v7", "rmi-v12", "rmi-v13", "rmi-v14"}},
    };
}

RealmOptions parse_realm_options(const std::map<std::string, std::string>& options) {
    RealmOptions o;
    auto get = [&](const char* key) -> std::string {
        auto it = options.find(key);
        return it == options.end() ? std::string() : it->second;
    };
    o.rmm = get("rmm") == "2.0" ? RmmVersion::v2_0 : RmmVersion::v1_0;
    if (!get("layout").empty()) o.layout = get("layout");
    if (!get("hash").empty()) o.hash = parse_hash_algorithm(get("hash"));
    if (auto rpv = get("rpv"); !rpv.empty()) {
        std::string_view hex = rpv;
        if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
        auto bytes = from_hex(hex, "option 'rpv'");
        if (bytes.size() > o.rpv.size())
            throw Error(fmt::format("option 'rpv' has {} bytes: expected at most 64", bytes.size()));
        std::copy(bytes.begin(), bytes.end(), o.rpv.begin());
    }
    if (auto v = get("ipa-bits"); !v.empty()) o.ipa_bits = parse_bounded("ipa-bits", v, 32, 52);
    if (auto v = get("num-bps"); !v.empty()) o.num_bps = parse_bounded("num-bps", v, 2, 64);
    if (auto v = get("num-wps"); !v.empty()) o.num_wps = parse_bounded("num-wps", v, 2, 64);
    o.pmu = get("pmu") == "on";
    if (auto v = get("pmu-counters"); !v.empty()) o.pmu_counters = parse_bounded("pmu-counters", v, 0, 31);
    if (o.pmu && !o.pmu_counters)
        throw Error("option 'pmu' is on but 'pmu-counters' is not set: the realm's PMU counter count is measured");
    if (!o.pmu && o.pmu_counters)
        throw Error("option 'pmu-counters' is set but 'pmu' is not on: a realm without a PMU has no counters, and "
                    "the value would change nothing");
    if (auto v = get("sve-vl"); !v.empty()) {
        o.sve_vl = parse_bounded("sve-vl", v, 0, 2048);
        if (o.sve_vl % 128)
            throw Error(fmt::format("option 'sve-vl' is {}: expected 0 or a multiple of 128 up to 2048", o.sve_vl));
    }
    if (!get("abi").empty()) o.abi = get("abi");
    // The ABI decides the RMM and, from v13, fixes the hash and the RPV.
    if (o.abi.starts_with("rme-") && o.rmm != RmmVersion::v1_0)
        throw Error(fmt::format("option 'abi' {} talks to an RMM 1.0 host: 'rmm' must be 1.0", o.abi));
    if (o.abi.starts_with("rmi-") && o.rmm != RmmVersion::v2_0)
        throw Error(fmt::format("option 'abi' {} talks to an RMM 2.0 host: 'rmm' must be 2.0", o.abi));
    // No RMI series has a call that sets them (v12: one capability and two
    // ioctls; realm_create_rd starts from a zeroed params page).
    if (o.abi.starts_with("rmi-") &&
        ((o.hash && *o.hash != HashAlgorithm::sha256) ||
         std::any_of(o.rpv.begin(), o.rpv.end(), [](std::uint8_t b) { return b != 0; })))
        throw Error(fmt::format("option 'abi' {}: the kernel fixes SHA-256 and a zero RPV", o.abi));
    return o;
}

RealmParams realm_params(const RealmOptions& options, unsigned layout_ipa_bits, HashAlgorithm algorithm) {
    RealmParams p;
    p.s2sz = options.ipa_bits ? std::min(*options.ipa_bits, layout_ipa_bits) : layout_ipa_bits;
    if (p.s2sz > 48)
        throw Error(fmt::format("the realm would have {} IPA bits: more than 48 needs LPA2, which libcvm does not "
                                "model; lower ipa-bits", p.s2sz));
    p.num_bps = options.num_bps - 1;
    p.num_wps = options.num_wps - 1;
    if (options.sve_vl) {
        p.flags |= RealmParams::kFlagSve;
        p.sve_vl = options.sve_vl / 128 - 1;
    }
    if (options.pmu) {
        p.flags |= RealmParams::kFlagPmu;
        p.pmu_num_ctrs = *options.pmu_counters;
    }
    p.algorithm = algorithm;
    rmi_hash_algorithm(algorithm);  // throws for SHA-384
    return p;
}

} // namespace cvm::cca
