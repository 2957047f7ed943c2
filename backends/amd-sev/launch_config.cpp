#include "backends/amd-sev/launch_config.hpp"

#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/snp_id_block.hpp"
#include "cvm/spec.hpp"

namespace cvm::sev {
namespace {

// Family, model and stepping as AMD's CPUID specification (#25481) encodes them.
constexpr std::uint32_t signature(std::uint32_t family, std::uint32_t model, std::uint32_t stepping) {
    std::uint32_t base_family = family > 0xf ? 0xf : family;
    std::uint32_t ext_family = family > 0xf ? family - 0xf : 0;
    return (ext_family << 20) | ((model >> 4) << 16) | (base_family << 8) | ((model & 0xf) << 4) | stepping;
}

struct CpuModel {
    const char* name;
    std::uint32_t signature;
};
// QEMU's builtin AMD EPYC models (target/i386/cpu.c), exactly the names
// sev-snp-measure knows, so the same name means the same signature in both.
constexpr CpuModel kCpuModels[] = {
    {"EPYC", signature(23, 1, 2)},        {"EPYC-v1", signature(23, 1, 2)},
    {"EPYC-v2", signature(23, 1, 2)},     {"EPYC-v3", signature(23, 1, 2)},
    {"EPYC-v4", signature(23, 1, 2)},     {"EPYC-IBPB", signature(23, 1, 2)},
    {"EPYC-Rome", signature(23, 49, 0)},  {"EPYC-Rome-v1", signature(23, 49, 0)},
    {"EPYC-Rome-v2", signature(23, 49, 0)}, {"EPYC-Rome-v3", signature(23, 49, 0)},
    {"EPYC-Milan", signature(25, 1, 1)},  {"EPYC-Milan-v1", signature(25, 1, 1)},
    {"EPYC-Milan-v2", signature(25, 1, 1)},
    {"EPYC-Genoa", signature(25, 17, 0)}, {"EPYC-Genoa-v1", signature(25, 17, 0)},
    {"EPYC-Turin", signature(26, 0, 0)},
};
static_assert(signature(23, 1, 2) == 0x00800f12 && signature(23, 49, 0) == 0x00830f10);
static_assert(signature(25, 1, 1) == 0x00a00f11 && signature(25, 17, 0) == 0x00a10f10);
static_assert(signature(26, 0, 0) == 0x00b00f00);

} // namespace

template <class E, std::size_t N>
std::string_view name_of(E value, const Choice<E> (&names)[N]) {
    for (const auto& c : names)
        if (c.value == value) return c.name;
    return "?";
}

std::string_view technology_name(Mode mode) { return name_of(mode, LaunchConfig::kModes); }
std::string_view to_string(InitKind init) { return name_of(init, LaunchConfig::kInits); }
std::string_view to_string(VmmModel vmm) { return name_of(vmm, LaunchConfig::kVmms); }

const LaunchConfig& config_of(const LaunchPlan& plan) {
    const auto& ops = plan.operations();
    const auto* vm = ops.empty() ? nullptr : std::get_if<op::CreateVm>(&ops.front());
    if (!vm) throw Error(fmt::format("the {} plan does not start with create-vm", plan.technology()));
    const auto& config = config_as<LaunchConfig>(*vm, fmt::format("the {} plan", plan.technology()));
    config.check(plan.technology());
    return config;
}

std::shared_ptr<const LaunchConfig> decode_config(std::span<const ConfigField> fields, std::string_view technology) {
    auto config = cvm::decode_config<LaunchConfig>(fields, fmt::format("the {} plan's create-vm", technology));
    config->check(technology);
    return config;
}

void LaunchConfig::check(std::string_view technology) const {
    const LaunchConfig& c = *this;
    if (technology_name(c.mode) != technology)
        throw Error(fmt::format("a {} plan cannot create a {} VM", technology, technology_name(c.mode)));
    if (c.owner_dh_cert.empty() != c.owner_session.empty())
        throw Error("a guest owner's LAUNCH_START needs both the owner's PDH certificate and the session blob");
    if (c.mode == Mode::snp && !c.owner_session.empty())
        throw Error("SEV-SNP has no LAUNCH_START session; the guest owner attests the guest instead");
    if (c.mode == Mode::snp && c.init != InitKind::init2)
        throw Error("SEV-SNP VMs exist only through KVM_SEV_INIT2; the plan asks for the legacy init");
    if (c.mode == Mode::snp && (c.sev_features & 1) == 0)
        throw Error(fmt::format("SNP guest features {:#x} lack bit 0 (SNPActive)", c.sev_features));
    // arch/x86/kvm/svm/sev.c snp_launch_start refuses (EINVAL, before the
    // firmware is asked) a policy without SNP_POLICY_MASK_RSVD_MBO, bit 17,
    // which the SNP firmware ABI's guest policy reserves as must-be-one.
    if (c.mode == Mode::snp && (c.policy & kSnpPolicyReservedMbo) == 0)
        throw Error(fmt::format("SNP guest policy {:#x} lacks bit 17, which is reserved and must be 1 "
                                "(KVM refuses SNP_LAUNCH_START without it)", c.policy));
    if (c.mode != Mode::snp && c.sev_features != 0)
        throw Error(fmt::format("SEV features {:#x} on a {} VM: only SEV-SNP VMs are modelled with features",
                                c.sev_features, technology));
    if (!c.host_data.empty() && (c.mode != Mode::snp || c.host_data.size() != kSnpHostDataSize))
        throw Error(fmt::format("host data of {} bytes on a {} VM: only SEV-SNP takes HOST_DATA, 32 bytes",
                                c.host_data.size(), technology));
    if (c.id_block.empty() != c.id_auth.empty())
        throw Error("an SNP ID block needs its ID authentication structure, and the structure its block "
                    "(SNP_LAUNCH_FINISH copies both when id_block_en is set)");
    if (!c.id_block.empty()) {
        if (c.mode != Mode::snp)
            throw Error(fmt::format("an ID block on a {} VM: only SEV-SNP's SNP_LAUNCH_FINISH takes one", technology));
        // A plan may come from an event log: the same strict parse as a file.
        const auto block = parse_snp_id_block(c.id_block, "the plan's id-block");
        parse_snp_id_auth(c.id_auth, "the plan's id-auth");
        if (block.policy != c.policy)
            throw Error(fmt::format("the ID block's POLICY {:#x} is not the launch's SNP guest policy {:#x} "
                                    "(the firmware refuses SNP_LAUNCH_FINISH with POLICY_FAILURE)",
                                    block.policy, c.policy));
    }
    if (c.secret_gpa.has_value() != c.secret_size.has_value())
        throw Error("a secret area needs both its GPA and its size");
    if (c.secret_gpa && (c.mode == Mode::snp || *c.secret_size == 0 || *c.secret_gpa + *c.secret_size < *c.secret_gpa))
        throw Error(fmt::format("a secret area of {:#x} bytes at {:#x} on a {} VM: only SEV and SEV-ES have one "
                                "(LAUNCH_SECRET), non-empty", *c.secret_size, *c.secret_gpa, technology));
    if (c.mode != Mode::snp && c.policy > 0xffffffffull)
        throw Error(fmt::format("SEV policy {:#x} does not fit in 32 bits", c.policy));
}

bool LaunchConfig::author_key_en() const {
    return !id_auth.empty() && parse_snp_id_auth(id_auth, "the plan's id-auth").has_author_key();
}

std::optional<std::uint32_t> vcpu_signature(std::string_view model) {
    for (const auto& m : kCpuModels)
        if (model == m.name) return m.signature;
    return std::nullopt;
}

std::string vcpu_model_names() {
    std::vector<std::string> names;
    for (const auto& m : kCpuModels) names.emplace_back(m.name);
    return fmt::format("{}", fmt::join(names, ", "));
}

} // namespace cvm::sev
