#include "backends/riscv-cove/cove_predictor.hpp"

#include <optional>

#include <fmt/format.h>

#include "backends/riscv-cove/cove_config.hpp"
#include "backends/riscv-cove/cove_uapi.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm::cove {
namespace {

[[noreturn]] void unsupported(const std::string& what) {
    throw Error("riscv-cove measurement model: " + what + "; no prediction is made for it");
}

void check_create_vm(const op::CreateVm& o) {
    const auto* config = dynamic_cast<const TvmConfig*>(o.config.get());
    if (!config) unsupported("a create-vm without a riscv-cove configuration");
    config->check();
    if (config->tsm_abi != TsmAbi::v0_5)
        unsupported(fmt::format("TSM ABI {} has no known TSM measurement format (Salus implements v0.5)",
                                to_string(config->tsm_abi)));
}

} // namespace

SalusRegisters replay_plan(const LaunchPlan& plan) {
    if (plan.technology() != "riscv-cove") unsupported(fmt::format("a '{}' plan", plan.technology()));
    SalusRegisters registers;
    bool created = false;
    std::optional<op::AddMemory> region;
    unsigned vcpus = 0;
    std::optional<std::uint64_t> pc, a1;

    for (const auto& operation : plan.operations()) {
        std::visit(overloaded{
            [&](const op::CreateVm& o) {
                if (created) unsupported("a second create-vm");
                check_create_vm(o);
                created = true;
            },
            [&](const op::AddMemory& o) {
                // The RFC kernel tracks one confidential region: the last memslot.
                if (!created) unsupported("memory added before the VM is created");
                if (region) unsupported("a second memory region (the RFC kernel tracks only one)");
                if (!o.confidential) unsupported("shared (non-confidential) memory");
                if (o.gpa % kPageSize || o.size % kPageSize) unsupported("a memory region not 4 KiB aligned");
                region = o;
            },
            [&](const op::LoadData& o) {
                if (!o.measured) unsupported("an unmeasured load (the TSM maps no unmeasured page before finalize)");
                if (!o.page_type.empty()) unsupported(fmt::format("a '{}' page type", o.page_type));
                std::uint64_t size = o.data.size();
                if (!region || o.gpa < region->gpa || size > region->gpa + region->size - o.gpa)
                    unsupported(fmt::format("a load at {:#x}+{:#x} outside the confidential region", o.gpa, size));
                registers.add_measured_pages(o.gpa, o.data);
            },
            [&](const op::CreateVcpus& o) {
                if (vcpus) unsupported("vCPUs created twice");
                if (o.count == 0) unsupported("no vCPU");
                vcpus = o.count;
            },
            [&](const op::SetRegisters& o) {
                if (registers.finalized()) unsupported("registers set after finalize");
                if (o.vcpu != 0 || vcpus == 0)
                    unsupported(fmt::format("registers of vCPU {} (Salus finalizes with vCPU 0's entry state)", o.vcpu));
                for (const auto& r : o.registers) {
                    if (r.name == "pc") pc = r.value;
                    else if (r.name == "a1") a1 = r.value;
                    else if (r.name != "a0")  // the hart id: not passed to the TSM, not measured
                        unsupported(fmt::format("initial register '{}'", r.name));
                }
            },
            // Devices enter the measurement only as the DTB that describes them.
            [&](const op::AddDevice&) {},
            [&](const op::Finalize&) {
                if (registers.finalized()) unsupported("a second finalize");
                if (!pc || !a1) unsupported("finalize before vCPU 0's pc and a1 are set");
                registers.finalize(*pc, *a1);
            },
        }, operation);
    }
    if (!registers.finalized()) unsupported("a plan that never finalizes");
    return registers;
}

Measurement predict_cove(const LaunchPlan& plan) {
    SalusRegisters r = replay_plan(plan);
    Measurement m{plan.technology(), r.pcr(2), {}};
    for (unsigned i = 0; i < SalusRegisters::kStaticCount; ++i) m.registers.push_back({fmt::format("pcr{}", i), r.pcr(i)});
    m.registers.push_back({"tci", r.attestation_tci()});
    return m;
}

} // namespace cvm::cove
