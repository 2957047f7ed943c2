#include "libcvm/plan/software_measurement.hpp"

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/tcg.hpp"
#include "libcvm/eventlog/software_log.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm {
namespace {

// The operation's encoding (docs/plain-measurement.md), built in memory: it
// is small, since loaded data enters it as a digest.
struct Encoder {
    std::vector<std::uint8_t> bytes;
    void raw(ByteSpan b) { bytes.insert(bytes.end(), b.begin(), b.end()); }
    void text(std::string_view t) { bytes.insert(bytes.end(), t.begin(), t.end()); }
    void u8(std::uint8_t v) { bytes.push_back(v); }
    void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
    void u64(std::uint64_t v) { for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
    void str(std::string_view t) { u32(static_cast<std::uint32_t>(t.size())); text(t); }
};

PlanEvent make_event(std::string_view name, std::string description, Encoder& e, std::optional<ByteSpan> content) {
    PlanEvent event;
    event.kind = std::string(name);
    event.description = std::move(description);
    event.digest = hash(HashAlgorithm::sha256, e.bytes);
    event.pcr_index = 0;
    event.event_type = eventlog::EV_EVENT_TAG;
    event.event_data = eventlog::software_event_data(e.bytes, content);
    event.measured = Payload::from_bytes(std::move(e.bytes), event.kind + " encoding");
    return event;
}

// A file a device serves the guest: like loaded data, by its digest.
PlanEvent file_event(const op::AddDevice& device, const op::DeviceFile& file) {
    Encoder e;
    e.text("device-file");
    e.u8(0);
    e.str(op::to_string(device.kind));
    e.str(file.name);
    e.u64(file.data.size());
    e.raw(hash(HashAlgorithm::sha256, file.data).bytes());
    std::optional<ByteSpan> content;
    if (!file.data.is_file() && file.data.size() <= eventlog::kMaxContent) content = file.data.bytes();
    return make_event("device-file", fmt::format("device-file {} {} ({} bytes)", op::to_string(device.kind), file.name,
                                                 file.data.size()), e, content);
}

PlanEvent event_of(const Operation& operation) {
    Encoder e;
    std::string_view name = operation_name(operation);
    e.text(name);
    e.u8(0);  // the tag's NUL
    std::optional<ByteSpan> content;  // generated measured data travels in the log
    std::string description = std::visit(overloaded{
        [&](const op::CreateVm& o) {
            const auto fields = o.fields();
            e.u32(static_cast<std::uint32_t>(fields.size()));
            std::string text;
            for (const auto& field : fields) {
                e.str(field.name);
                e.str(field.value);
                text += fmt::format(" {}={}", field.name, field.value);
            }
            return fmt::format("create-vm{}", text);
        },
        [&](const op::AddMemory& o) {
            e.u64(o.gpa);
            e.u64(o.size);
            e.u8(o.confidential ? 1 : 0);
            return fmt::format("add-memory {:#x}+{:#x} {}", o.gpa, o.size, o.label);
        },
        [&](const op::LoadData& o) {
            e.u64(o.gpa);
            e.u64(o.data.size());
            e.u8(o.measured ? 1 : 0);
            if (o.measured) e.raw(hash(HashAlgorithm::sha256, o.data).bytes());
            if (!o.page_type.empty()) e.str(o.page_type);  // absent for ordinary data
            if (o.measured && !o.data.is_file() && o.data.size() <= eventlog::kMaxContent) content = o.data.bytes();
            return fmt::format("load-data {:#x}+{:#x} {}{}", o.gpa, o.data.size(), o.label,
                               o.measured ? "" : " (unmeasured)");
        },
        [&](const op::CreateVcpus& o) {
            e.u32(o.count);
            return fmt::format("create-vcpus {}", o.count);
        },
        [&](const op::SetRegisters& o) {
            e.u32(o.vcpu);
            e.u32(static_cast<std::uint32_t>(o.registers.size()));
            for (const auto& r : o.registers) {
                e.str(r.name);
                e.u64(r.value);
            }
            return fmt::format("set-registers vcpu {}", o.vcpu);
        },
        [&](const op::AddDevice&) -> std::string {
            throw Error("add-device has no software event: the machine's tables describe devices");
        },
        [&](const op::Finalize&) { return std::string("finalize"); },
    }, operation);
    return make_event(name, std::move(description), e, content);
}

} // namespace

std::vector<PlanEvent> software_events(const LaunchPlan& plan) {
    std::vector<PlanEvent> events;
    events.reserve(plan.operations().size());
    // Devices are not events: the DTB or ACPI tables that describe them to
    // the guest are loaded data, measured with it (docs/plain-measurement.md).
    // The files a device serves are, one each.
    for (const auto& operation : plan.operations()) {
        if (const auto* device = std::get_if<op::AddDevice>(&operation)) {
            for (const auto& file : device->files) events.push_back(file_event(*device, file));
            continue;
        }
        events.push_back(event_of(operation));
    }
    return events;
}

Measurement software_measurement(const LaunchPlan& plan) {
    Digest chain = Digest::zero(HashAlgorithm::sha256);
    Hasher h(HashAlgorithm::sha256);
    for (const auto& event : software_events(plan)) chain = h.update(chain.bytes()).update(event.digest.bytes()).finish();
    return Measurement{plan.technology(), chain, {}};
}

} // namespace cvm
