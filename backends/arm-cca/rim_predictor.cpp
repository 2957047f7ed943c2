// The RIM of a realm plan, in plan order:
//   create-vm        RMI_REALM_CREATE
//   add-memory       RMI_RTT_INIT_RIPAS over the range (measured by RMM 1.0 only)
//   load-data        RMI_DATA_CREATE per 4 KiB granule, measured or not
//   finalize         RMI_REC_CREATE per vCPU; only vCPU 0 is RUNNABLE and measured
// Anything else the model does not understand is an error.
#include "backends/arm-cca/rim_predictor.hpp"
#include "libcvm/digest/page_hashes.hpp"

#include <array>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "backends/arm-cca/cca_log.hpp"
#include "backends/arm-cca/realm_plan.hpp"
#include "backends/arm-cca/rim.hpp"
#include "cvm/error.hpp"
#include "cvm/tcg.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm::cca {
namespace {

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

// Replays the plan once, calling `after(operation, realm, rim)` after each
// operation has extended the RIM: the prediction and the event log are two
// observers of the same walk, so a payload is read once for both.
// `image_digests`: whole-image digests to take from the same read of each
// measured load (the log's image events carry them).
template <class After>
Digest replay(const LaunchPlan& plan, After&& after, const std::vector<HashAlgorithm>& image_digests = {}) {
    if (plan.technology() != kTechnology)
        throw Error(fmt::format("the arm-cca predictor cannot measure a '{}' plan", plan.technology()));
    std::optional<Rim> rim;
    std::optional<RealmConfig> realm;
    PopulatedGranules populated;
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
                after(operation, *realm, *rim);
            },
            [&](const op::AddMemory& o) {
                need_realm("add-memory");
                if (!o.confidential || realm->rmm != RmmVersion::v1_0) return;
                const std::uint64_t base = o.gpa / kGranule * kGranule;
                const std::uint64_t top = (o.gpa + o.size + kGranule - 1) / kGranule * kGranule;
                for (auto [b, t] : ripas_blocks(base, top, realm->params.s2sz)) rim->ripas(b, t);
                after(operation, *realm, *rim);
            },
            [&](const op::LoadData& o) {
                need_realm("load-data");
                if (vcpus) throw Error("arm-cca plan loads data after creating vCPUs");
                if (!o.page_type.empty())
                    throw Error(fmt::format("arm-cca plan: page type '{}' does not exist on CCA", o.page_type));
                if (o.data.size() == 0) throw Error(fmt::format("arm-cca plan: empty {} at {:#x}", o.label, o.gpa));
                populate_granules(*rim, populated, o.gpa, o.data.size(), o.measured ? &o.data : nullptr,
                                  "the " + o.label, image_digests);
                after(operation, *realm, *rim);
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
            // Devices reach the RIM only as the DTB that describes them,
            // which is a load like any other.
            [&](const op::AddDevice&) { need_realm("add-device"); },
            [&](const op::Finalize&) {
                need_realm("finalize");
                if (!vcpus || !boot) throw Error("arm-cca plan finalizes without a boot vCPU state");
                // RECs are created in vCPU order; only vCPU 0 is RUNNABLE.
                rim->rec(boot->pc, boot->gprs);
                after(operation, *realm, *rim);
                finalized = true;
            },
        }, operation);
    }
    if (!finalized) throw Error("arm-cca plan never finalizes: the realm would not be activated");
    return rim->value();
}

} // namespace

void PopulatedGranules::claim(std::uint64_t first, std::uint64_t last, const std::string& what) {
    // The first range starting after `first`, and the one before it, are
    // the only ones that can overlap [first, last] among disjoint ranges.
    auto next = ranges_.upper_bound(first);
    if (next != ranges_.begin()) {
        auto before = std::prev(next);
        if (before->second >= first)
            throw Error(fmt::format("{} reuses granule {:#x}; RMI_DATA_CREATE populates a granule once", what, first));
    }
    if (next != ranges_.end() && next->first <= last)
        throw Error(fmt::format("{} reuses granule {:#x}; RMI_DATA_CREATE populates a granule once", what, next->first));
    ranges_.emplace(first, last);
}

void populate_granules(Rim& rim, PopulatedGranules& populated, std::uint64_t gpa, std::uint64_t size,
                       const Payload* measured, const std::string& what,
                       const std::vector<HashAlgorithm>& image_digests) {
    if (size == 0 || gpa + size < gpa) throw Error(fmt::format("{} at {:#x}+{:#x}: an empty or wrapping range", what, gpa, size));
    const std::uint64_t first = gpa / kGranule * kGranule;
    const std::uint64_t last = (gpa + size - 1) / kGranule * kGranule;
    if (measured && measured->size() < size)
        throw Error(fmt::format("{}: {} bytes to measure, {} given", what, size, measured->size()));
    populated.claim(first, last, what);
    if (!measured) {
        for (std::uint64_t granule = first;; granule += kGranule) {
            rim.data_unmeasured(granule);
            if (granule == last) break;
        }
        return;
    }
    // The granules' bytes: the data placed at its offset, zeros around it.
    for_each_page_hash(rim.algorithm(), measured->slice(0, size), gpa - first, image_digests,
                       [&](std::size_t index, const Digest& content_hash) {
                           rim.data_measured_hash(first + index * kGranule, content_hash);
                       });
}

Measurement predict_rim(const LaunchPlan& plan) {
    Measurement m;
    m.technology = kTechnology;
    m.value = replay(plan, [](const Operation&, const RealmConfig&, const Rim&) {});
    return m;
}

namespace {

std::string vmm_name(const std::string& layout) {
    if (layout == "qemu") return "QEMU";
    if (layout == "kvmtool") return "kvmtool";
    return "libcvm";
}

PlanEvent tagged_event(std::string kind, std::string description, std::uint32_t id, const std::vector<std::uint8_t>& payload,
                       const Rim& rim) {
    PlanEvent e;
    e.kind = std::move(kind);
    e.description = std::move(description);
    e.digest = rim.value();
    e.pcr_index = 0;
    e.event_type = eventlog::EV_EVENT_TAG;
    e.event_data = log::encode_tagged(id, payload);
    // The RFC leaves tagged events without digests; libcvm hashes their data
    // so that a changed parameter byte names its event (docs/event-log.md).
    e.measured = Payload::from_bytes(e.event_data, e.kind);
    return e;
}

std::string upper(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

} // namespace

Prediction predict_rim_with_events(const LaunchPlan& plan) {
    std::uint64_t ram = 0;
    unsigned vcpus = 0;
    for (const auto& operation : plan.operations()) {
        if (const auto* o = std::get_if<op::AddMemory>(&operation)) ram += o->size;
        if (const auto* o = std::get_if<op::CreateVcpus>(&operation)) vcpus = o->count;
    }
    Prediction out;
    auto& events = out.events;
    std::optional<BootRegisters> boot;
    auto after = [&](const Operation& operation, const RealmConfig& realm, const Rim& rim) {
        std::visit(overloaded{
            [&](const op::CreateVm&) {
                PlanEvent version;
                version.kind = "vm-version";
                version.description = "VM VERSION";
                version.digest = Digest::zero(plan.algorithm());
                version.event_type = eventlog::EV_NO_ACTION;
                version.event_data = log::encode_vm_version({vmm_name(realm.layout), "libcvm 0.1", ram, vcpus, 0});
                events.push_back(std::move(version));
                const RealmParams& p = realm.params;
                log::RealmCreate r{p.flags, static_cast<std::uint8_t>(p.s2sz), static_cast<std::uint8_t>(p.sve_vl),
                                   static_cast<std::uint8_t>(p.num_bps), static_cast<std::uint8_t>(p.num_wps),
                                   static_cast<std::uint8_t>(p.pmu_num_ctrs), rmi_hash_algorithm(p.algorithm)};
                events.push_back(tagged_event("realm-create", fmt::format("REALM_CREATE s2sz {}", p.s2sz),
                                              log::kTagRealmCreate, log::encode_realm_create(r), rim));
            },
            [&](const op::AddMemory& o) {
                // RMM 2.0 does not measure RMI_RTT_INIT_RIPAS: no event.
                if (!o.confidential || realm.rmm != RmmVersion::v1_0) return;
                const std::uint64_t base = o.gpa / kGranule * kGranule;
                const std::uint64_t top = (o.gpa + o.size + kGranule - 1) / kGranule * kGranule;
                events.push_back(tagged_event("ripas", fmt::format("INIT_RIPAS {:#x}+{:#x}", base, top - base),
                                              log::kTagInitRipas, log::encode_init_ripas({base, top - base}), rim));
            },
            [&](const op::LoadData& o) {
                PlanEvent e;
                e.kind = "data";
                e.description = fmt::format("{} at {:#x}", o.label, o.gpa);
                e.digest = rim.value();
                e.event_type = o.label == "firmware" ? eventlog::EV_EFI_PLATFORM_FIRMWARE_BLOB2 : eventlog::EV_POST_CODE2;
                e.event_data = log::encode_blob2({upper(o.label), o.gpa, o.data.size()});
                if (o.measured) e.measured = o.data;
                events.push_back(std::move(e));
            },
            [&](const op::CreateVcpus&) {},
            [&](const op::AddDevice&) {},
            [&](const op::SetRegisters&) {},
            [&](const op::Finalize&) {
                const BootRegisters& b = *boot;
                log::RecCreate r{log::kRecRunnable, b.pc, b.gprs};
                events.push_back(tagged_event("rec-create", fmt::format("REC_CREATE pc {:#x}", b.pc),
                                              log::kTagRecCreate, log::encode_rec_create(r), rim));
            },
        }, operation);
    };
    // The boot registers are the plan's; the replay checks them.
    for (const auto& operation : plan.operations())
        if (const auto* o = std::get_if<op::SetRegisters>(&operation)) boot = boot_registers(*o);
    out.measurement.technology = kTechnology;
    // The log's image events carry each image's digest in the default bank,
    // the RIM's algorithm: taken from the granule walk's read of the image.
    out.measurement.value = replay(plan, after, {plan.algorithm()});
    return out;
}

std::vector<PlanEvent> rim_events(const LaunchPlan& plan) { return predict_rim_with_events(plan).events; }

} // namespace cvm::cca
