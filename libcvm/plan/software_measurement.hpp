// The software measurement of a launch plan: a SHA-256 hash chain with the
// semantics of a TPM PCR extend, one event per operation. It is what the
// plain backend predicts, and it lets any plan answer "what does this launch
// load?" without hardware. The encoding is specified in
// docs/plain-measurement.md; change both together.
#pragma once

#include <vector>

#include "cvm/backend.hpp"

namespace cvm {

// One event per operation, each carrying SHA-256(encoding of the operation).
std::vector<PlanEvent> software_events(const LaunchPlan& plan);
// M_0 = 32 zero bytes; M_i = SHA-256(M_{i-1} || event_i.digest).
Measurement software_measurement(const LaunchPlan& plan);

} // namespace cvm
