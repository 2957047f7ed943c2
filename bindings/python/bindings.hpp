// Shared by the translation units of the Python module `cvm`.
#pragma once

#include <pybind11/pybind11.h>

#include "cvm/backend.hpp"

namespace cvm::python {

namespace py = pybind11;

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

// A Spec from keyword arguments (technology=..., memory=..., kernel=...).
VmSpec spec_from_kwargs(const py::kwargs& kwargs);
// A plan from a Spec, from keyword arguments, or the Plan itself.
LaunchPlan plan_from(const py::object& source, const py::kwargs& kwargs);

} // namespace cvm::python
