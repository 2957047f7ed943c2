// The public entry of the reference-value formats: the launch's values from
// a plan and its prediction, and the dispatch to one file per format.
#include "cvm/reference_values.hpp"

#include <variant>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/reference/corim.hpp"
#include "libcvm/reference/keybroker.hpp"
#include "libcvm/reference/trustee.hpp"

namespace cvm::reference {

Format parse_format(std::string_view name) {
    if (name == "corim") return Format::corim;
    if (name == "trustee") return Format::trustee;
    if (name == "keybroker") return Format::keybroker;
    throw Error(fmt::format("unknown reference-value format '{}' (expected corim, trustee or keybroker)", name));
}

std::string_view to_string(Format format) {
    switch (format) {
    case Format::corim: return "corim";
    case Format::trustee: return "trustee";
    case Format::keybroker: return "keybroker";
    }
    return "?";
}

LaunchValues launch_values(const LaunchPlan& plan, const Measurement& measurement) {
    LaunchValues values{measurement.technology, measurement.value, measurement.registers, {}};
    for (const auto& operation : plan.operations())
        if (const auto* create = std::get_if<op::CreateVm>(&operation)) values.config = create->fields();
    return values;
}

namespace {
std::vector<std::uint8_t> text_bytes(const std::string& text) {
    std::vector<std::uint8_t> out(text.begin(), text.end());
    out.push_back('\n');
    return out;
}
} // namespace

std::vector<std::uint8_t> render(Format format, const LaunchValues& values) {
    switch (format) {
    case Format::corim: return corim(values);
    case Format::trustee: return text_bytes(trustee_message(values));
    case Format::keybroker: return text_bytes(keybroker_values(values));
    }
    throw Error("unknown reference-value format");
}

} // namespace cvm::reference
