// Layout rules of the plain backend for arm64 guests: libcvm's arm64
// machine (libcvm/arm64/libcvm_machine.hpp), the same kernel, initrd and DTB
// placement as an arm-cca realm of the libcvm layout, booted on ordinary
// KVM. Plans are made on any host; only launching needs an arm64 one.
#pragma once

#include "cvm/plan.hpp"
#include "cvm/spec.hpp"

namespace cvm::arm64 {

// True if `kernel` starts with an arm64 Image header (its magic at 0x38);
// the plain backend then plans an arm64 guest instead of an x86 one.
bool is_arm64_image(ByteSpan kernel);

LaunchPlan build_plain_plan(const VmSpec& spec);

// KVM's vCPU i has MPIDR Aff0 = i only below 16, and the DTB names CPUs by index.
inline constexpr unsigned kMaxVcpus = 16;

// PSTATE at the kernel entry, as the arm64 boot protocol asks: EL1 with
// SP_EL1 (EL1h) and D, A, I, F masked.
inline constexpr std::uint64_t kBootPstate = 0x3c5;

} // namespace cvm::arm64
