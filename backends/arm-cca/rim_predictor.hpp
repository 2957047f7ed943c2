// Plan -> RIM: replays a realm plan through the TF-RMM measurement rules.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

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

// The granules RMI_DATA_CREATE has populated, as ranges: a load claims its
// whole range at once, and a granule claimed twice is refused (the RMM
// populates a granule once). One node per load, not per granule.
class PopulatedGranules {
public:
    // Claims the granules [first, last] (inclusive: a range may end at the
    // top of the address space); throws naming `what` and the first granule
    // already populated.
    void claim(std::uint64_t first, std::uint64_t last, const std::string& what);

private:
    std::map<std::uint64_t, std::uint64_t> ranges_;  // first granule -> last granule
};

// RMI_DATA_CREATE over the granules of [gpa, gpa + size): measured, the
// bytes placed at their offset in zeroed granules; unmeasured, only IPAs.
// A granule in `populated` already is an error (the RMM populates once);
// `what` names the data in that error. The granules' content hashes are
// computed on every core from `measured` (nullptr: unmeasured), read in
// windows released after use, or streamed from its file (for_each_page_hash).
// `image_digests`: digests of the measured bytes themselves to take from the
// same read (remembered with the payload, where an event log finds them).
void populate_granules(Rim& rim, PopulatedGranules& populated, std::uint64_t gpa, std::uint64_t size,
                       const Payload* measured, const std::string& what,
                       const std::vector<HashAlgorithm>& image_digests = {});

} // namespace cvm::cca
