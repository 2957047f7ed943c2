// The initial register state libcvm gives an SEV-ES/SNP vCPU, modelled on
// a VMM (QEMU, EC2, GCE) so that the VMSA equals that VMM's. The BSP starts
// at the reset vector 0xfffffff0, every AP at the firmware's SEV-ES reset
// block, in real mode with CS = 0xf000:(eip & 0xffff), base eip & 0xffff0000.
#pragma once

#include <cstdint>

#include "backends/amd-sev/launch_config.hpp"
#include "cvm/plan.hpp"

namespace cvm::sev {

constexpr std::uint32_t kBspResetEip = 0xfffffff0;

// `signature` is CPUID 1 EAX of the vCPU model (QEMU puts it in RDX at reset).
op::SetRegisters reset_registers(unsigned vcpu, std::uint32_t eip, VmmModel vmm, std::uint32_t signature);

} // namespace cvm::sev
