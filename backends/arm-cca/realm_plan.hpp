// Spec -> plan for a realm, and the realm settings a plan carries.
//
// The plan's create-vm carries the realm's configuration: the measured
// RmiRealmParams fields in RMM encoding, the RMM version and the RPV, so that
// the predictor and the launcher read the realm from the plan alone.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "backends/arm-cca/rim.hpp"
#include "cvm/plan.hpp"
#include "cvm/spec.hpp"
#include "libcvm/plan/config_codec.hpp"

namespace cvm::cca {

inline constexpr const char* kTechnology = "arm-cca";

LaunchPlan build_realm_plan(const VmSpec& spec, const std::map<std::string, std::string>& options);

// The arm-cca backend's VM configuration. The hash algorithm of `params` is
// the plan's, not a field of its own.
struct RealmConfig final : VmConfig {
    std::string layout;  // the VMM whose layout the plan reproduces (the VM VERSION event names it)
    std::string abi;     // the launcher's host ABI, or "auto"
    RmmVersion rmm = RmmVersion::v1_0;
    RealmParams params;
    std::array<std::uint8_t, 64> rpv{};

    static constexpr Choice<RmmVersion> kRmmVersions[] = {{RmmVersion::v1_0, "1.0"}, {RmmVersion::v2_0, "2.0"}};

    template <class Codec, class Self>
    static void describe(Codec& codec, Self& self) {
        codec.text("layout", self.layout);
        codec.text("abi", self.abi);
        codec.choice("rmm", self.rmm, kRmmVersions);
        codec.number("flags", self.params.flags, Radix::hex);
        codec.number("s2sz", self.params.s2sz);
        codec.number("sve_vl", self.params.sve_vl);
        codec.number("num_bps", self.params.num_bps);
        codec.number("num_wps", self.params.num_wps);
        codec.number("pmu_num_ctrs", self.params.pmu_num_ctrs);
        codec.bytes("rpv", self.rpv);
    }
    std::vector<ConfigField> fields() const override { return encode_config(*this); }
    // Refuses what the measurement model does not know (fail closed).
    void check() const;
};
// The realm `create` configures, with the plan's hash algorithm; throws on
// a configuration the model does not know.
RealmConfig planned_realm(const LaunchPlan& plan, const op::CreateVm& create);
// The configuration `fields` describe (its algorithm left at SHA-256).
std::shared_ptr<const RealmConfig> decode_realm_config(std::span<const ConfigField> fields);

} // namespace cvm::cca
