// The RIM of a realm plan, in plan order:
//   create-vm        RMI_REALM_CREATE
//   add-memory       RMI_RTT_INIT_RIPAS over the range (measured by RMM 1.0 only)
//   load-data        RMI_DATA_CREATE per 4 KiB granule, measured or not
//   finalize         RMI_REC_CREATE per vCPU; only vCPU 0 is RUNNABLE and measured
// Anything else the model does not understand is an error.
#include "backends/arm-rme/rim_predictor.hpp"

#include <array>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "backends/arm-rme/realm_plan.hpp"
#include "backends/arm-rme/rim.hpp"
#include "cvm/error.hpp"

namespace cvm::cca {
namespace {

template <class... Ts> struct overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> overloaded(Ts...) -> overloaded<Ts...>;

struct BootRegisters {
    std::uint64_t pc = 0;
    std::array<std::uint64_t, 8> gprs{};
};

BootRegisters boot_registers(const op::SetRegisters& o) {
    if (o.vcpu != 0)
        throw Error(fmt::format("arm-cca plan sets registers of vCPU {}: only the boot vCPU (0) has an initial "
                                "state; the others start through PSCI CPU_ON", o.vcpu));
    BootRegisters r;
    for (const auto& reg : o.registers) {
        if (reg.name == "pc") {
            r.pc = reg.value;
            continue;
        }
        unsigned index = 8;
        if (reg.name.size() == 2 && reg.name[0] == 'x' && reg.name[1] >= '0' && reg.name[1] <= '7')
            index = static_cast<unsigned>(reg.name[1] - '0');
        if (index >= 8)
            throw Error(fmt::format("arm-cca plan sets register '{}': a REC's measured state is pc and x0-x7 only",
                                    reg.name));
        r.gprs[index] = reg.value;
    }
    return r;
}

// Replays the plan, calling `step` after each measured extension.
template <class Step>
Digest replay(const LaunchPlan& plan, Step&& step) {
    if (plan.technology() != kTechnology)
        throw Error(fmt::format("the arm-cca predictor cannot measure a '{}' plan", plan.technology()));
    std::optional<Rim> rim;
    std::optional<PlannedRealm> realm;
    std::set<std::uint64_t> populated;
    std::optional<BootRegisters> boot;
    unsigned vcpus = 0;
    bool finalized = false;
    auto need_realm = [&](std::string_view what) {
        if (!rim) throw Error(fmt::format("arm-cca plan: {} before create-vm", what));
        if (finalized) throw Error(fmt::format("arm-cca plan: {} after finalize", what));
    };

    for (const auto& operation : plan.operations()) {
        std::visit(overloaded{
            [&](const op::CreateVm& o) {
                if (rim) throw Error("arm-cca plan creates the realm twice");
                realm = planned_realm(plan, o);
                rim.emplace(realm->params);
                step("realm-create", fmt::format("RMI_REALM_CREATE s2sz {} flags {:#x}", realm->params.s2sz,
                                                 realm->params.flags), *rim);
            },
            [&](const op::AddMemory& o) {
                need_realm("add-memory");
                if (!o.confidential || realm->rmm != RmmVersion::v1_0) return;
                const std::uint64_t base = o.gpa / kGranule * kGranule;
                const std::uint64_t top = (o.gpa + o.size + kGranule - 1) / kGranule * kGranule;
                for (auto [b, t] : ripas_blocks(base, top, realm->params.s2sz)) {
                    rim->ripas(b, t);
                    step("ripas", fmt::format("RIPAS [{:#x}, {:#x})", b, t), *rim);
                }
            },
            [&](const op::LoadData& o) {
                need_realm("load-data");
                if (vcpus) throw Error("arm-cca plan loads data after creating vCPUs");
                if (!o.page_type.empty())
                    throw Error(fmt::format("arm-cca plan: page type '{}' does not exist on CCA", o.page_type));
                ByteSpan bytes = o.data.bytes();
                if (bytes.empty()) throw Error(fmt::format("arm-cca plan: empty {} at {:#x}", o.label, o.gpa));
                const std::uint64_t first = o.gpa / kGranule * kGranule;
                const std::uint64_t end = o.gpa + bytes.size();
                for (std::uint64_t granule = first; granule < end; granule += kGranule) {
                    if (!populated.insert(granule).second)
                        throw Error(fmt::format("arm-cca plan: the {} reuses granule {:#x}; RMI_DATA_CREATE "
                                                "populates a granule once", o.label, granule));
                    if (!o.measured) {
                        rim->data_unmeasured(granule);
                        continue;
                    }
                    // The granule's bytes: the image placed at its offset, zeros around it.
                    const std::uint64_t lo = std::max(granule, o.gpa);
                    const std::uint64_t hi = std::min(granule + kGranule, end);
                    ByteSpan part = bytes.subspan(lo - o.gpa, hi - lo);
                    if (lo == granule) {
                        rim->data_measured(granule, part);
                    } else {
                        std::array<std::uint8_t, kGranule> page{};
                        std::copy(part.begin(), part.end(), page.begin() + (lo - granule));
                        rim->data_measured(granule, ByteSpan(page.data(), page.size()));
                    }
                }
                step("data", fmt::format("DATA {} {} at {:#x}, {} granule(s)", o.measured ? "measured" : "unmeasured",
                                         o.label, first, (end - first + kGranule - 1) / kGranule), *rim);
            },
            [&](const op::CreateVcpus& o) {
                need_realm("create-vcpus");
                if (vcpus) throw Error("arm-cca plan creates vCPUs twice");
                if (o.count == 0) throw Error("arm-cca plan creates no vCPU");
                vcpus = o.count;
            },
            [&](const op::SetRegisters& o) {
                need_realm("set-registers");
                if (!vcpus) throw Error("arm-cca plan sets registers before creating vCPUs");
                boot = boot_registers(o);
            },
            [&](const op::Finalize&) {
                need_realm("finalize");
                if (!vcpus || !boot) throw Error("arm-cca plan finalizes without a boot vCPU state");
                // RECs are created in vCPU order; only vCPU 0 is RUNNABLE.
                rim->rec(boot->pc, boot->gprs);
                step("rec", fmt::format("REC vCPU 0 RUNNABLE pc {:#x} x0 {:#x}", boot->pc, boot->gprs[0]), *rim);
                finalized = true;
            },
        }, operation);
    }
    if (!finalized) throw Error("arm-cca plan never finalizes: the realm would not be activated");
    return rim->value();
}

} // namespace

Measurement predict_rim(const LaunchPlan& plan) {
    Measurement m;
    m.technology = kTechnology;
    m.value = replay(plan, [](std::string_view, const std::string&, const Rim&) {});
    return m;
}

std::vector<PlanEvent> rim_events(const LaunchPlan& plan) {
    std::vector<PlanEvent> events;
    replay(plan, [&](std::string_view kind, const std::string& description, const Rim& rim) {
        PlanEvent event;
        event.kind = std::string(kind);
        event.description = description;
        event.digest = rim.value();
        events.push_back(std::move(event));
    });
    return events;
}

} // namespace cvm::cca
