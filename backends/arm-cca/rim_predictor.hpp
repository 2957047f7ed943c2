// Plan -> RIM: replays a realm plan through the TF-RMM measurement rules.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "backends/arm-cca/rim.hpp"
#include "cvm/backend.hpp"
#include "cvm/measurement.hpp"
#include "cvm/plan.hpp"

namespace cvm::cca {

Measurement predict_rim(const LaunchPlan& plan);
// The RIM and the events of one replay (each payload hashed once).
Prediction predict_rim_with_events(const LaunchPlan& plan);
// The plan as the QEMU Arm CCA RFC's event sequence (docs/event-log.md,
// "Mapping: Arm CCA"); each event's digest is the RIM after its step.
std::vector<PlanEvent> rim_events(const LaunchPlan& plan);

// RMI_DATA_CREATE over the granules of [gpa, gpa + size): measured, the
// bytes placed at their offset in zeroed granules; unmeasured, only IPAs.
// A granule in `populated` already is an error (the RMM populates once);
// `what` names the data in that error. The granules' content hashes are
// computed on every core from `measured` (nullptr: unmeasured), read in
// windows released after use, or streamed from its file (for_each_page_hash).
void populate_granules(Rim& rim, std::set<std::uint64_t>& populated, std::uint64_t gpa, std::uint64_t size,
                       const Payload* measured, const std::string& what);

} // namespace cvm::cca
