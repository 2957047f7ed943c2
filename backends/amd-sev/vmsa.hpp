// The VMSA (SEV-ES save area) KVM encrypts for a vCPU at launch, as a
// function of the register state the launcher set and of the VM's init.
//
// KVM copies the vCPU's state into the VMSA (sev_es_sync_vmsa): segments,
// control and debug registers, GPRs, PAT, XCR0 and, only after INIT2, the
// x87/SSE control words. On top it sets EFER.SVME and CR4.MCE, and
// SEV_FEATURES from the VM. Offsets: docs/amd-sev.md, "VMSA initial state".
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "backends/amd-sev/launch_config.hpp"
#include "cvm/plan.hpp"

namespace cvm::sev {

constexpr std::size_t kVmsaSize = 4096;
using VmsaPage = std::array<std::uint8_t, kVmsaSize>;

// The names of the registers a plan may set on an SEV-ES/SNP vCPU: segment
// fields "<seg>.selector|attrib|limit|base" (es cs ss ds fs gs ldtr tr),
// "gdtr.base|limit", "idtr.base|limit", the GPRs, "rip", "rflags", "cr0",
// "cr3", "cr4", "efer", "dr6", "dr7", "pat", "xcr0", "mxcsr", "fcw".
bool is_vmsa_register(std::string_view name);

// Throws on a register name outside the list above, or a value too wide for its field.
VmsaPage build_vmsa(const op::SetRegisters& state, const LaunchConfig& config);

} // namespace cvm::sev
