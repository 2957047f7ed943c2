// The riscv-cove measurement model over a launch plan: replays the plan's
// measured loads and its finalize through the Salus registers.
#pragma once

#include "backends/riscv-cove/salus_model.hpp"
#include "cvm/measurement.hpp"
#include "cvm/plan.hpp"

namespace cvm::cove {

// The registers after the plan's finalize. Fails closed on anything the
// model does not cover: a TSM ABI other than v0.5, unmeasured or typed
// loads, loads outside the one confidential region, registers other than
// pc/a0/a1 of vCPU 0, a missing finalize.
SalusRegisters replay_plan(const LaunchPlan& plan);

// value = PCR2 (TvmPage); registers: pcr0..pcr3 and the attestation TCI.
Measurement predict_cove(const LaunchPlan& plan);

} // namespace cvm::cove
