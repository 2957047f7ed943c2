// Layout rules of the plain x86_64 backend: a Linux bzImage booted through
// the 64-bit boot protocol, with ACPI tables describing the vCPUs.
#pragma once

#include "cvm/plan.hpp"
#include "cvm/spec.hpp"

namespace cvm::x86 {

LaunchPlan build_plain_plan(const VmSpec& spec);

} // namespace cvm::x86
