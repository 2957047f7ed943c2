// cvm_plan: the backend's layout rules, the plan's text forms and its events.
#include <cstdlib>
#include <cstring>
#include <new>

#include <fmt/format.h>

#include "cvm/eventlog.hpp"

#include "libcvm/capi/handles.hpp"
#include "libcvm/capi/status.hpp"

namespace cvm::capi {

namespace {

void compute_events(const cvm_plan& handle, std::vector<cvm_plan::Event>& events) {
    for (const auto& event : handle.backend->events(handle.plan))
        events.push_back({event.kind, event.description, event.digest.hex()});
}

} // namespace
} // namespace cvm::capi

using cvm::capi::fail;
using cvm::capi::guarded;

extern "C" {

cvm_status cvm_plan_build(const cvm_spec* spec, cvm_plan** out) {
    CVM_REQUIRE(spec);
    CVM_REQUIRE(out);
    return guarded([&] {
        const auto& backend = cvm::find_backend(spec->spec.technology);
        *out = new cvm_plan{&backend, backend.build_plan(spec->spec), {}, {}};
    });
}

void cvm_plan_free(cvm_plan* plan) { delete plan; }

const char* cvm_plan_technology(const cvm_plan* plan) { return plan ? plan->plan.technology().c_str() : nullptr; }

size_t cvm_plan_operation_count(const cvm_plan* plan) { return plan ? plan->plan.operations().size() : 0; }

cvm_status cvm_plan_to_text(const cvm_plan* plan, char** out) {
    CVM_REQUIRE(plan);
    CVM_REQUIRE(out);
    return guarded([&] { *out = cvm::capi::malloc_copy(plan->plan.to_text()); });
}

cvm_status cvm_plan_to_json(const cvm_plan* plan, char** out) {
    CVM_REQUIRE(plan);
    CVM_REQUIRE(out);
    return guarded([&] { *out = cvm::capi::malloc_copy(plan->plan.to_json()); });
}

cvm_status cvm_plan_event_count(const cvm_plan* plan, size_t* count) {
    CVM_REQUIRE(plan);
    CVM_REQUIRE(count);
    // The handle is logically const: the events are a cache of the plan.
    auto* handle = const_cast<cvm_plan*>(plan);
    return guarded([&] {
        std::call_once(handle->events_once, [&] {
            std::vector<cvm_plan::Event> events;
            cvm::capi::compute_events(*handle, events);
            handle->events = std::move(events);
        });
        *count = handle->events.size();
    });
}

cvm_status cvm_plan_event(const cvm_plan* plan, size_t index, const char** kind, const char** description,
                          const char** digest_hex) {
    size_t count = 0;
    if (cvm_status status = cvm_plan_event_count(plan, &count); status != CVM_OK) return status;
    if (index >= count)
        return fail(CVM_ERR_ARGUMENT, fmt::format("event {} of a plan with {} events", index, count).c_str());
    const auto& event = plan->events[index];
    if (kind) *kind = event.kind.c_str();
    if (description) *description = event.description.c_str();
    if (digest_hex) *digest_hex = event.digest_hex.c_str();
    return CVM_OK;
}

cvm_status cvm_plan_event_log(const cvm_plan* plan, uint8_t** bytes, size_t* size) {
    CVM_REQUIRE(plan);
    CVM_REQUIRE(bytes);
    CVM_REQUIRE(size);
    return guarded([&] {
        cvm::eventlog::WriteOptions options;
        options.banks = {plan->plan.algorithm()};
        options.vendor_info = cvm::eventlog::vendor_info_for(plan->plan.technology());
        auto log = cvm::eventlog::write_log(plan->backend->events(plan->plan), options);
        auto* copy = static_cast<uint8_t*>(std::malloc(log.empty() ? 1 : log.size()));
        if (!copy) throw std::bad_alloc();
        std::memcpy(copy, log.data(), log.size());
        *bytes = copy;
        *size = log.size();
    });
}

} // extern "C"
