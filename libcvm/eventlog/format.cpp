// A parsed log for people (text) and for programs (JSON).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"
#include "libcvm/eventlog/software_log.hpp"

namespace cvm::eventlog {
namespace {

std::string vendor_text(const SpecIdEvent& spec) { return std::string(spec.vendor_info.begin(), spec.vendor_info.end()); }

// Printable ASCII, possibly NUL-terminated: shown as text.
std::optional<std::string> as_text(ByteSpan bytes) {
    if (!bytes.empty() && bytes.back() == 0) bytes = bytes.first(bytes.size() - 1);
    if (bytes.empty()) return std::nullopt;
    for (auto c : bytes)
        if (c < 0x20 || c >= 0x7f) return std::nullopt;
    return std::string(bytes.begin(), bytes.end());
}

// What the event says, decoded where libcvm knows the layout.
std::string describe(const Log& log, const Event& e, const std::string& name) {
    for (const LogReplayer* rules : all_log_replayers())
        if (rules->recognizes(log))
            if (auto text = rules->describe(e, name)) return *text;
    // libcvm's operation logs: plain, and the technologies that use its encoding.
    if (vendor_text(log.spec_id).starts_with("libcvm:") && e.type == EV_EVENT_TAG && e.data.size() >= 4 &&
        e.data[0] == (kOperationTag & 0xff) && e.data[1] == ((kOperationTag >> 8) & 0xff) &&
        e.data[2] == ((kOperationTag >> 16) & 0xff) && e.data[3] == (kOperationTag >> 24)) {
        try {
            auto parts = split_software_event_data(e.data, name, e.data_offset);
            auto op = decode_software_operation(parts.encoding, name, parts.encoding_offset);
            std::string text = op.text.empty() ? op.name : fmt::format("{} {}", op.name, op.text);
            if (parts.content) {
                auto printable = as_text(*parts.content);
                text += printable ? fmt::format(" content \"{}\"", *printable)
                                  : fmt::format(" content {} bytes", parts.content->size());
            }
            return text;
        } catch (const Error& error) {
            return fmt::format("undecodable libcvm operation: {}", error.message());
        }
    }
    if (auto text = as_text(e.data)) return fmt::format("\"{}\"", *text);
    if (e.data.size() <= 32) return to_hex(e.data);
    return fmt::format("{}... ({} bytes)", to_hex(ByteSpan(e.data).first(32)), e.data.size());
}

} // namespace

std::string to_text(const Log& log, const std::string& name) {
    const auto& spec = log.spec_id;
    std::string out = fmt::format("Spec ID Event03: platformClass {}, version {}.{}, errata {}, uintnSize {}\n",
                                  spec.platform_class, spec.spec_version_major, spec.spec_version_minor,
                                  spec.spec_errata, spec.uintn_size);
    for (const auto& a : spec.algorithms)
        out += fmt::format("  bank {} ({} bytes)\n", algorithm_name(a.algorithm), a.digest_size);
    if (!spec.vendor_info.empty()) {
        auto text = as_text(spec.vendor_info);
        out += fmt::format("  vendorInfo {}\n", text ? fmt::format("\"{}\"", *text) : to_hex(spec.vendor_info));
    }
    if (log.dialect == Dialect::qemu_cca_rfc)
        out += "  QEMU Arm CCA RFC log (specErrata 106, no vendorInfo): its EV_NO_ACTION digest quirks accepted\n";
    for (const Event& e : log.events) {
        out += fmt::format("event {} @{:#x}: PCR {} {}: {}\n", e.index, e.offset, e.pcr_index, event_type_name(e.type),
                           describe(log, e, name));
        for (const auto& d : e.digests) out += fmt::format("  {} {}\n", algorithm_name(d.algorithm), to_hex(d.bytes));
    }
    auto pcrs = replay(log, name);
    for (const auto& [bank, values] : pcrs.banks)
        for (const auto& [pcr, value] : values)
            out += fmt::format("PCR {} {} {}\n", pcr, algorithm_name(bank), to_hex(value));
    out += fmt::format("{} events, {} bytes\n", log.events.size(), log.used_size);
    return out;
}

std::string to_json(const Log& log, const std::string& name) {
    using json = nlohmann::ordered_json;
    const auto& spec = log.spec_id;
    json algorithms = json::array();
    for (const auto& a : spec.algorithms)
        algorithms.push_back({{"algorithm", algorithm_name(a.algorithm)}, {"id", a.algorithm}, {"digest_size", a.digest_size}});
    json j;
    j["spec_id"] = {{"platform_class", spec.platform_class},
                    {"spec_version", fmt::format("{}.{}", spec.spec_version_major, spec.spec_version_minor)},
                    {"spec_errata", spec.spec_errata},
                    {"uintn_size", spec.uintn_size},
                    {"dialect", log.dialect == Dialect::qemu_cca_rfc ? "qemu-cca-rfc" : "tcg"},
                    {"algorithms", algorithms},
                    {"vendor_info", to_hex(spec.vendor_info)}};
    json events = json::array();
    for (const Event& e : log.events) {
        json digests = json::object();
        for (const auto& d : e.digests) digests[algorithm_name(d.algorithm)] = to_hex(d.bytes);
        events.push_back({{"index", e.index},
                          {"offset", e.offset},
                          {"pcr", e.pcr_index},
                          {"type", event_type_name(e.type)},
                          {"type_value", e.type},
                          {"digests", digests},
                          {"data", to_hex(e.data)},
                          {"description", describe(log, e, name)}});
    }
    j["events"] = events;
    json pcrs = json::object();
    for (const auto& [bank, values] : replay(log, name).banks)
        for (const auto& [pcr, value] : values) pcrs[algorithm_name(bank)][std::to_string(pcr)] = to_hex(value);
    j["pcrs"] = pcrs;
    j["used_size"] = log.used_size;
    return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace cvm::eventlog
