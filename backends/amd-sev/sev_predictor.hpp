// The measurement models of the SEV backends: plan -> launch digest.
//
//   SEV:    SHA-256 over every LAUNCH_UPDATE_DATA'd byte, in plan order.
//   SEV-ES: the same, then the VMSA of every vCPU in index order.
//   SNP:    the SHA-384 PAGE_INFO chain over every page of every region in
//           plan order, then one VMSA page per vCPU.
// A plan the model does not fully understand is an error (fail closed).
#pragma once

#include <vector>

#include "cvm/backend.hpp"

namespace cvm::sev {

Measurement predict_launch_digest(const LaunchPlan& plan);
std::vector<PlanEvent> launch_events(const LaunchPlan& plan);
// Both from one walk of the model (a command that prints the digest and
// writes the log hashes the launch's data once for the digest).
Prediction predict_launch_digest_with_events(const LaunchPlan& plan);

} // namespace cvm::sev
