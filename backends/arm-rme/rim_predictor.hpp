// Plan -> RIM: replays a realm plan through the TF-RMM measurement rules.
#pragma once

#include "cvm/backend.hpp"
#include "cvm/measurement.hpp"
#include "cvm/plan.hpp"

namespace cvm::cca {

Measurement predict_rim(const LaunchPlan& plan);
std::vector<PlanEvent> rim_events(const LaunchPlan& plan);

} // namespace cvm::cca
