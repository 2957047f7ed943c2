// Spec -> plan for a realm, and the realm settings a plan carries.
//
// The plan's create-vm parameters hold the measured RmiRealmParams fields in
// RMM encoding, plus the RMM version and the RPV, so that the predictor and
// the launcher read the realm's configuration from the plan alone.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "backends/arm-cca/rim.hpp"
#include "cvm/plan.hpp"
#include "cvm/spec.hpp"

namespace cvm::cca {

inline constexpr const char* kTechnology = "arm-cca";

LaunchPlan build_realm_plan(const VmSpec& spec, const std::map<std::string, std::string>& options);

struct PlannedRealm {
    RmmVersion rmm = RmmVersion::v1_0;
    RealmParams params;
    std::array<std::uint8_t, 64> rpv{};
    std::string layout;  // where the layout put the interrupt controller and UART
    std::string abi;     // the launcher's host ABI, or "auto"
};
// Reads the create-vm parameters back; throws on any key or value the model
// does not know (fail closed).
PlannedRealm planned_realm(const LaunchPlan& plan, const op::CreateVm& create);

} // namespace cvm::cca
