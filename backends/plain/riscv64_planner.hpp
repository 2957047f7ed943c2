// Layout rules of the plain backend for riscv64 guests: libcvm's riscv64
// machine (libcvm/riscv64/machine.hpp), the kernel, initrd and DTB where a
// riscv-cove TVM of the same files has them, booted on ordinary KVM with a
// polled 16550 as its console and no interrupt controller besides the
// harts' own (timer, IPIs, hart start and power-off are SBI calls KVM
// serves). Plans are made on any host; only launching needs a riscv64 one.
#pragma once

#include <map>
#include <string>

#include "cvm/backend.hpp"
#include "cvm/plan.hpp"
#include "cvm/spec.hpp"

namespace cvm::riscv64 {

// The plain backend's options that describe the riscv64 host (the DTB
// declares them; the launcher refuses a host that differs).
std::vector<OptionInfo> plain_options();

LaunchPlan build_plain_plan(const VmSpec& spec, const std::map<std::string, std::string>& options);

// The generated DTB's 64 KiB holds the nodes of this many harts with room
// to spare for a long command line.
inline constexpr unsigned kPlainMaxVcpus = 64;

} // namespace cvm::riscv64
