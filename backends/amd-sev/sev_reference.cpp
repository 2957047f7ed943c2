#include "cvm/sev_reference.hpp"

#include <optional>

#include <fmt/format.h>

#include "backends/amd-sev/launch_config.hpp"
#include "backends/amd-sev/ovmf_table.hpp"
#include "backends/amd-sev/sev_uapi.hpp"
#include "backends/amd-sev/snp_page_info.hpp"
#include "backends/amd-sev/vmsa.hpp"
#include "cvm/error.hpp"

namespace cvm::sev {

std::vector<std::vector<std::uint8_t>> vmsa_pages(const LaunchPlan& plan) {
    const LaunchConfig& config = config_of(plan);
    if (config.mode == Mode::sev) throw Error("an amd-sev launch has no VMSA: its vCPU state is not encrypted");
    std::vector<std::optional<VmsaPage>> pages;
    for (const auto& operation : plan.operations())
        if (const auto* o = std::get_if<op::SetRegisters>(&operation)) {
            if (o->vcpu >= pages.size()) pages.resize(o->vcpu + 1);
            pages[o->vcpu] = build_vmsa(*o, config);
        }
    std::vector<std::vector<std::uint8_t>> out;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        if (!pages[i]) throw Error(fmt::format("the plan sets no registers of vCPU {}, so it has no VMSA", i));
        out.emplace_back(pages[i]->begin(), pages[i]->end());
    }
    return out;
}

Digest snp_ovmf_hash(const Payload& firmware) {
    if (firmware.size() == 0 || firmware.size() % 4096 || firmware.size() > kFourGiB)
        throw Error(fmt::format("a firmware of {} bytes: expected whole 4 KiB pages below 4 GiB", firmware.size()), 0,
                    firmware.name());
    SnpLaunchDigest digest;
    digest.add_pages(kFourGiB - firmware.size(), uapi::kSnpPageNormal, firmware);
    return digest.value();
}

} // namespace cvm::sev
