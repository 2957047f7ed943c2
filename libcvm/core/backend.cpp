#include "cvm/backend.hpp"
#include "cvm/eventlog.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {

std::string_view to_string(ExitReason reason) {
    switch (reason) {
    case ExitReason::power_off: return "power-off";
    case ExitReason::reset: return "reset";
    case ExitReason::triple_fault: return "triple-fault";
    case ExitReason::emulation_failure: return "emulation-failure";
    case ExitReason::timeout: return "timeout";
    case ExitReason::interrupted: return "interrupted";
    }
    return "?";
}

Digest Backend::runtime_extend(const Digest&, ByteSpan) const {
    throw Error(fmt::format("{} has no runtime-extendable measurement registers", name()));
}

void refuse_owner_round_trip(const RunOptions& options, std::string_view technology) {
    if (options.owner)
        throw Error(fmt::format("a {} launch has no guest-owner round trip before the guest runs (only AMD SEV and "
                                "SEV-ES do, between LAUNCH_MEASURE and LAUNCH_FINISH); its guest fetches secrets "
                                "itself after attestation", technology));
}

const Backend& find_backend(std::string_view name) {
    std::string known;
    for (const Backend* backend : all_backends()) {
        if (backend->name() == name) return *backend;
        known += known.empty() ? "" : ", ";
        known += backend->name();
    }
    throw Error(fmt::format("unknown technology '{}': expected one of {}", name, known));
}

std::map<std::string, std::string> resolve_options(const Backend& backend, const VmSpec& spec) {
    auto declared = backend.options();
    std::map<std::string, std::string> resolved;
    for (const auto& entry : spec.options) {
        const std::string& key = entry.first;
        const std::string& value = entry.second;
        auto it = std::find_if(declared.begin(), declared.end(),
                               [&key](const OptionInfo& o) { return o.name == key; });
        if (it == declared.end())
            throw Error(fmt::format("technology '{}' has no option '{}'", backend.name(), key));
        if (!it->choices.empty() &&
            std::find(it->choices.begin(), it->choices.end(), value) == it->choices.end())
            throw Error(fmt::format("option '{}' of '{}' is '{}': expected one of {}", key,
                                    backend.name(), value, fmt::join(it->choices, ", ")));
        resolved[key] = value;
    }
    for (const auto& option : declared)
        if (!resolved.count(option.name) && !option.default_value.empty())
            resolved[option.name] = option.default_value;
    return resolved;
}

} // namespace cvm

namespace cvm::eventlog {

// The replay rules are the backends': collected once from the one table.
std::span<const LogReplayer* const> all_log_replayers() {
    static const std::vector<const LogReplayer*> rules = [] {
        std::vector<const LogReplayer*> found;
        for (const Backend* backend : all_backends())
            if (const LogReplayer* r = backend->log_replayer()) found.push_back(r);
        return found;
    }();
    return rules;
}

} // namespace cvm::eventlog
