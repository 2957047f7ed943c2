// The TCG event log of a plan: Plan.event_log() writes it as bytes, and
// cvm.read_event_log() parses a log (strictly) into records.
#include <pybind11/stl.h>

#include <fmt/format.h>

#include "bindings/python/bindings.hpp"
#include "cvm/eventlog.hpp"

namespace cvm::python {
namespace {

py::bytes write(const LaunchPlan& plan, const std::optional<std::vector<std::string>>& banks) {
    eventlog::WriteOptions options;
    options.banks.clear();
    if (banks)
        for (const auto& bank : *banks) options.banks.push_back(parse_hash_algorithm(bank));
    else
        options.banks.push_back(plan.algorithm());
    options.vendor_info = eventlog::vendor_info_for(plan.technology());
    const auto& backend = find_backend(plan.technology());
    std::vector<std::uint8_t> log;
    {
        py::gil_scoped_release unlocked;  // hashes every payload
        log = eventlog::write_log(backend.events(plan), options);
    }
    return to_bytes(log);
}

eventlog::Log read(const py::bytes& data, bool padded, const std::string& name) {
    std::string_view view = data;
    eventlog::ReadOptions options;
    options.padded = padded;
    return eventlog::read_log(ByteSpan(reinterpret_cast<const std::uint8_t*>(view.data()), view.size()), name, options);
}

// `expected`: bytes, or text as cvm-launch prints it (hex).
py::dict verify(const py::bytes& data, const std::string& images, const py::object& expected, bool padded) {
    std::vector<std::uint8_t> want;
    if (py::isinstance<py::bytes>(expected)) {
        std::string_view v = expected.cast<py::bytes>();
        want.assign(v.begin(), v.end());
    } else {
        want = from_hex(expected.cast<std::string>(), "expected");
    }
    std::string json;
    {
        std::string_view view = data;
        const ByteSpan bytes(reinterpret_cast<const std::uint8_t*>(view.data()), view.size());
        py::gil_scoped_release unlocked;  // the replay hashes the listed images
        const auto log = eventlog::read_log(bytes, "event log", {padded});
        const auto list = eventlog::ImageList::read(images);
        json = eventlog::to_json(eventlog::verify(log, "event log", list, want), want);
    }
    return py::module_::import("json").attr("loads")(json).cast<py::dict>();
}

} // namespace

void bind_event_log(py::module_& m) {
    py::class_<eventlog::Event>(m, "LogEvent", "One TCG_PCR_EVENT2 record of an event log.")
        .def_readonly("index", &eventlog::Event::index, "1 for the first record after the Spec ID header.")
        .def_readonly("offset", &eventlog::Event::offset, "Byte offset of the record in the log.")
        .def_readonly("pcr_index", &eventlog::Event::pcr_index)
        .def_readonly("type", &eventlog::Event::type, "The TCG event type (EV_*).")
        .def_property_readonly("type_name", [](const eventlog::Event& e) { return eventlog::event_type_name(e.type); })
        .def_property_readonly("digests", [](const eventlog::Event& e) {
            py::dict digests;
            for (const auto& d : e.digests) digests[py::str(eventlog::algorithm_name(d.algorithm))] = to_bytes(d.bytes);
            return digests;
        }, "Bank name ('sha256', ...) -> digest bytes.")
        .def_property_readonly("data", [](const eventlog::Event& e) { return to_bytes(e.data); })
        .def("__repr__", [](const eventlog::Event& e) {
            return fmt::format("cvm.LogEvent({}, pcr={}, {})", e.index, e.pcr_index, eventlog::event_type_name(e.type));
        });

    py::class_<eventlog::Log>(m, "EventLog", "A parsed TCG crypto-agile event log.")
        .def_readonly("events", &eventlog::Log::events)
        .def_property_readonly("banks", [](const eventlog::Log& l) {
            std::vector<std::string> names;
            for (const auto& a : l.spec_id.algorithms) names.push_back(eventlog::algorithm_name(a.algorithm));
            return names;
        }, "The digest banks the Spec ID header declares, in order.")
        .def_property_readonly("vendor_info", [](const eventlog::Log& l) { return to_bytes(l.spec_id.vendor_info); })
        .def_readonly("used_size", &eventlog::Log::used_size, "Bytes up to the end of the last record.")
        .def("to_json", [](const eventlog::Log& l) { return eventlog::to_json(l, "event log"); })
        .def("__len__", [](const eventlog::Log& l) { return l.events.size(); })
        .def("__repr__", [](const eventlog::Log& l) { return fmt::format("cvm.EventLog({} events)", l.events.size()); });

    m.def("read_event_log", &read, py::arg("data"), py::arg("padded") = false, py::arg("name") = "event log",
          "Parses a TCG crypto-agile event log strictly; raises cvm.Error naming the offset of any violation.\n"
          "padded=True accepts an all-zero tail (a log at the start of a fixed-size buffer).");
    m.def("verify_event_log", &verify, py::arg("data"), py::arg("images"), py::arg("expected"),
          py::arg("padded") = false,
          "Verifies a log as `cvm-launch log verify` does: every event against the known-good images listed in\n"
          "the file `images` (sha256sum/sha384sum/sha512sum output), the replayed measurement against `expected`\n"
          "(bytes or hex). Returns {'technology', 'match', 'replayed', 'expected', 'registers', 'checked',\n"
          "'failures'}; raises cvm.Error for a malformed log or list.");
}

void bind_plan_event_log(py::class_<LaunchPlan>& plan) {
    plan.def("event_log", &write, py::arg("banks") = py::none(),
             "The plan's TCG crypto-agile event log as bytes (docs/event-log.md); banks: digest banks\n"
             "such as ['sha256', 'sha384'] (default: the plan's algorithm).");
}

} // namespace cvm::python
