#include "libcvm/plan/software_measurement.hpp"

#include <fmt/format.h>

namespace cvm {
namespace {

template <class... Ts> struct overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> overloaded(Ts...) -> overloaded<Ts...>;

void put_string(Hasher& h, std::string_view text) {
    h.update_le32(static_cast<std::uint32_t>(text.size()));
    h.update(text);
}

PlanEvent event_of(const Operation& operation) {
    Hasher h(HashAlgorithm::sha256);
    std::string_view name = operation_name(operation);
    h.update(name);
    h.update(ByteSpan(reinterpret_cast<const std::uint8_t*>(""), 1));  // the tag's NUL
    std::string description = std::visit(overloaded{
        [&](const op::CreateVm& o) {
            h.update_le32(static_cast<std::uint32_t>(o.params.size()));
            std::string text;
            for (const auto& [key, value] : o.params) {
                put_string(h, key);
                put_string(h, value);
                text += fmt::format(" {}={}", key, value);
            }
            return fmt::format("create-vm{}", text);
        },
        [&](const op::AddMemory& o) {
            h.update_le64(o.gpa).update_le64(o.size);
            std::uint8_t confidential = o.confidential ? 1 : 0;
            h.update(ByteSpan(&confidential, 1));
            return fmt::format("add-memory {:#x}+{:#x} {}", o.gpa, o.size, o.label);
        },
        [&](const op::LoadData& o) {
            h.update_le64(o.gpa).update_le64(o.data.size());
            std::uint8_t measured = o.measured ? 1 : 0;
            h.update(ByteSpan(&measured, 1));
            if (o.measured) h.update(hash(HashAlgorithm::sha256, o.data.bytes()).bytes());
            if (!o.page_type.empty()) put_string(h, o.page_type);  // absent for ordinary data
            return fmt::format("load-data {:#x}+{:#x} {}{}", o.gpa, o.data.size(), o.label,
                               o.measured ? "" : " (unmeasured)");
        },
        [&](const op::CreateVcpus& o) {
            h.update_le32(o.count);
            return fmt::format("create-vcpus {}", o.count);
        },
        [&](const op::SetRegisters& o) {
            h.update_le32(o.vcpu).update_le32(static_cast<std::uint32_t>(o.registers.size()));
            for (const auto& r : o.registers) {
                put_string(h, r.name);
                h.update_le64(r.value);
            }
            return fmt::format("set-registers vcpu {}", o.vcpu);
        },
        [&](const op::Finalize&) { return std::string("finalize"); },
    }, operation);
    return PlanEvent{std::string(name), std::move(description), h.finish()};
}

} // namespace

std::vector<PlanEvent> software_events(const LaunchPlan& plan) {
    std::vector<PlanEvent> events;
    events.reserve(plan.operations().size());
    for (const auto& operation : plan.operations()) events.push_back(event_of(operation));
    return events;
}

Measurement software_measurement(const LaunchPlan& plan) {
    Digest chain = Digest::zero(HashAlgorithm::sha256);
    Hasher h(HashAlgorithm::sha256);
    for (const auto& event : software_events(plan)) chain = h.update(chain.bytes()).update(event.digest.bytes()).finish();
    return Measurement{plan.technology(), chain, {}};
}

} // namespace cvm
