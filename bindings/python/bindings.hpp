// Shared by the translation units of the Python module `cvm`.
#pragma once

#include <pybind11/pybind11.h>

#include <optional>

#include "cvm/backend.hpp"
#include "cvm/owner_channel.hpp"

namespace cvm::python {

namespace py = pybind11;

// Bytes for Python: a copy of `bytes` as a bytes object.
inline py::bytes to_bytes(ByteSpan bytes) { return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size()); }

// cvm.Error, and the translation of cvm::Error into it.
void bind_errors(py::module_& m);
// cvm.Spec, cvm.Image and cvm.technologies().
void bind_spec(py::module_& m);
// cvm.Plan, its operation classes and cvm.PlanEvent.
void bind_plan(py::module_& m);
// cvm.EventLog, cvm.LogEvent and cvm.read_event_log().
void bind_event_log(py::module_& m);
// Plan.event_log().
void bind_plan_event_log(py::class_<LaunchPlan>& plan);
// cvm.Measurement, cvm.measure(), cvm.RunResult, cvm.launch().
void bind_measure(py::module_& m);

// cvm.sev_owner_reply().
void bind_owner(py::module_& m);
// launch(owner=...): a callable (dict -> dict or str), a command (str) or a
// socket fd (int). An exception the callable raises is kept in `raised`, for
// launch() to re-raise once the launcher has unwound.
OwnerRoundTrip owner_from_python(py::object owner, std::optional<py::error_already_set>& raised);

// A Spec from keyword arguments (technology=..., memory=..., kernel=...).
VmSpec spec_from_kwargs(const py::kwargs& kwargs);
// A plan from a Spec, from keyword arguments, or the Plan itself.
LaunchPlan plan_from(const py::object& source, const py::kwargs& kwargs);

} // namespace cvm::python
