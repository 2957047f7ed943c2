// Layout rules of the plain x86_64 backend: a Linux bzImage booted through
// the 64-bit boot protocol, with ACPI tables describing the vCPUs.
#pragma once

#include "cvm/plan.hpp"
#include "cvm/spec.hpp"

namespace cvm::x86 {

LaunchPlan build_plain_plan(const VmSpec& spec);
// With a firmware image: the firmware boots the kernel (firmware_planner.cpp).
LaunchPlan build_plain_firmware_plan(const VmSpec& spec);

} // namespace cvm::x86
