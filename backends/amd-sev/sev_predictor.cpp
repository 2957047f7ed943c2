#include "backends/amd-sev/sev_predictor.hpp"

#include <optional>

#include <fmt/format.h>

#include "backends/amd-sev/launch_config.hpp"
#include "backends/amd-sev/snp_page_info.hpp"
#include "backends/amd-sev/vmsa.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/payload_chunks.hpp"
#include "libcvm/plan/software_measurement.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm::sev {
namespace {

std::optional<uapi::SnpPageType> snp_page_type(std::string_view name) {
    if (name == "normal") return uapi::kSnpPageNormal;
    if (name == "zero") return uapi::kSnpPageZero;
    if (name == "unmeasured") return uapi::kSnpPageUnmeasured;
    if (name == "secrets") return uapi::kSnpPageSecrets;
    if (name == "cpuid") return uapi::kSnpPageCpuid;
    return std::nullopt;
}

// Walks the plan once, in order, and returns the launch digest; every
// payload is hashed once.
Digest walk(const LaunchPlan& plan) {
    const LaunchConfig& config = config_of(plan);
    const bool snp = config.mode == Mode::snp;
    Hasher sha256(HashAlgorithm::sha256);
    SnpLaunchDigest snp_digest;
    std::optional<unsigned> vcpus;
    std::vector<std::optional<op::SetRegisters>> registers;
    bool finalized = false;

    auto fail = [&](const std::string& why) { throw Error(fmt::format("{} plan: {}", plan.technology(), why)); };
    bool first = true;
    for (const auto& operation : plan.operations()) {
        if (finalized) fail("operations after finalize");
        std::visit(overloaded{
            [&](const op::CreateVm&) { if (!first) fail("a second create-vm"); },
            [&](const op::AddMemory&) {},
            [&](const op::LoadData& o) {
                if (vcpus) fail(fmt::format("'{}' is loaded after the vCPUs are created", o.label));
                if (!o.measured) fail(fmt::format("'{}' is unmeasured, which the {} model does not know",
                                                  o.label, plan.technology()));
                // The payload is read as it is hashed (a file is never
                // copied whole for a prediction).
                if (snp) {
                    auto type = snp_page_type(o.page_type);
                    if (!type) fail(fmt::format("'{}' has SNP page type '{}'", o.label, o.page_type));
                    snp_digest.add_pages(o.gpa, *type, o.data);
                } else {
                    if (!o.page_type.empty()) fail(fmt::format("'{}' has a page type on a non-SNP VM", o.label));
                    if (o.data.size() % 16 != 0 || o.gpa % 16 != 0)
                        fail(fmt::format("'{}' at {:#x} (+{:#x}) is not 16-byte aligned, as LAUNCH_UPDATE_DATA needs",
                                         o.label, o.gpa, o.data.size()));
                    for_each_chunk(o.data, 4u << 20, [&](std::size_t, ByteSpan bytes) { sha256.update(bytes); });
                }
            },
            [&](const op::CreateVcpus& o) {
                if (vcpus) fail("a second create-vcpus");
                if (o.count == 0) fail("no vCPU");
                vcpus = o.count;
                registers.resize(o.count);
            },
            [&](const op::SetRegisters& o) {
                if (config.mode == Mode::sev) fail("an SEV VM's register state is not encrypted nor measured; "
                                                   "the plan must not set it");
                if (!vcpus || o.vcpu >= *vcpus) fail(fmt::format("registers of missing vCPU {}", o.vcpu));
                if (registers[o.vcpu]) fail(fmt::format("registers of vCPU {} set twice", o.vcpu));
                registers[o.vcpu] = o;
            },
            // Devices are not measured: the firmware finds them itself.
            [&](const op::AddDevice&) {},
            [&](const op::Finalize&) {
                if (!vcpus) fail("finalize before the vCPUs are created");
                finalized = true;
                if (config.mode == Mode::sev) return;
                for (unsigned i = 0; i < *vcpus; ++i) {
                    if (!registers[i]) fail(fmt::format("vCPU {} has no register state, so no VMSA", i));
                    VmsaPage vmsa = build_vmsa(*registers[i], config);
                    if (snp) {
                        snp_digest.add_page(kVmsaGpa, uapi::kSnpPageVmsa, vmsa);
                    } else {
                        sha256.update(vmsa);
                    }
                }
            },
        }, operation);
        first = false;
    }
    if (!finalized) fail("no finalize");
    return snp ? snp_digest.value() : sha256.finish();
}

} // namespace

Measurement predict_launch_digest(const LaunchPlan& plan) {
    Measurement m;
    m.technology = plan.technology();
    m.value = walk(plan);
    return m;
}

Prediction predict_launch_digest_with_events(const LaunchPlan& plan) {
    Prediction p;
    p.measurement = predict_launch_digest(plan);  // refuses what the model does not know, before any log
    p.events = software_events(plan);
    return p;
}

// The log is libcvm's operation log (docs/event-log.md): the launch digest
// hashes page contents, so the log records the parameters of every
// operation and the verifier's replay runs this model again over them.
std::vector<PlanEvent> launch_events(const LaunchPlan& plan) {
    walk(plan);  // a plan the model refuses gets no log either
    return software_events(plan);
}

} // namespace cvm::sev
