// The settings of an SEV launch that both the launcher and the predictor need,
// carried in the plan's CreateVm parameters so that both read the same values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cvm/plan.hpp"

namespace cvm::sev {

enum class Mode { sev, es, snp };
// SNP guest policy bit 17: reserved, must be one (SNP firmware ABI, "Guest Policy").
inline constexpr std::uint64_t kSnpPolicyReservedMbo = 1ull << 17;
// KVM_SEV_INIT / KVM_SEV_ES_INIT on a default VM, or KVM_SEV_INIT2 on a VM of
// an SEV type. It changes the VMSA: the legacy path leaves MXCSR and FCW zero.
enum class InitKind { legacy, init2 };
// Whose reset state the vCPUs start from (docs/amd-sev.md, "VMM-type differences").
enum class VmmModel { qemu, ec2, gce };

struct LaunchConfig {
    Mode mode = Mode::sev;
    InitKind init = InitKind::init2;
    VmmModel vmm = VmmModel::qemu;
    std::uint64_t policy = 0;        // SEV policy (u32) or SNP guest policy (u64)
    std::uint64_t sev_features = 0;  // the VMSA's SEV_FEATURES (SNP: guest features, bit 0 set)
    // SEV/SEV-ES with a guest owner: the bytes LAUNCH_START is given (both
    // or neither; empty: the firmware makes the transport keys itself). The
    // plan carries the contents, not the files' names: the same contents
    // are the same plan wherever they were read from, and the launch uses
    // exactly what was planned.
    std::vector<std::uint8_t> owner_dh_cert;
    std::vector<std::uint8_t> owner_session;
};

std::string_view technology_name(Mode mode);
std::string_view to_string(InitKind init);
std::string_view to_string(VmmModel vmm);

// CreateVm parameters, in a fixed order.
op::CreateVm to_create_vm(const LaunchConfig& config);
// The config of `plan`, whose first operation must be the CreateVm that
// to_create_vm wrote for the plan's technology. Throws otherwise.
LaunchConfig config_of(const LaunchPlan& plan);

// CPUID Fn0000_0001_EAX of a QEMU AMD EPYC CPU model, or nothing if unknown.
std::optional<std::uint32_t> vcpu_signature(std::string_view model);
// The model names vcpu_signature knows, for help texts.
std::string vcpu_model_names();

} // namespace cvm::sev
