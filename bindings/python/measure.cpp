// cvm.measure() and cvm.Measurement: the predicted launch measurement;
// cvm.launch() and cvm.RunResult: booting the plan on KVM.
#include <pybind11/stl.h>

#include <cmath>

#include <fmt/format.h>

#include "bindings/python/bindings.hpp"
#include "cvm/error.hpp"

namespace cvm::python {
namespace {

Measurement predict(const LaunchPlan& plan) {
    const auto& backend = find_backend(plan.technology());
    py::gil_scoped_release unlocked;
    return backend.predict(plan);
}

int fd_of(const py::object& console) {
    if (console.is_none()) return 1;
    if (py::isinstance<py::int_>(console)) return console.cast<int>();
    if (py::hasattr(console, "fileno")) return console.attr("fileno")().cast<int>();
    throw Error("console: expected None, an fd or an object with fileno()");
}

} // namespace

void bind_measure(py::module_& m) {
    py::class_<Measurement>(m, "Measurement", "A predicted launch measurement.")
        .def_readonly("technology", &Measurement::technology)
        .def_property_readonly("algorithm", [](const Measurement& x) { return std::string(to_string(x.value.algorithm())); },
                               "'sha256', 'sha384' or 'sha512'.")
        .def_property_readonly("hex", [](const Measurement& x) { return x.value.hex(); },
                               "The value the hardware reports (RIM, launch digest, ...), lowercase hex.")
        .def_property_readonly("digest", [](const Measurement& x) { return to_bytes(x.value.bytes()); })
        .def_property_readonly("registers", [](const Measurement& x) {
            py::dict registers;
            for (const auto& r : x.registers) registers[py::str(r.name)] = r.value.hex();
            return registers;
        }, "Further registers where the technology has several: name -> hex, in report order.")
        .def("to_json", &Measurement::to_json)
        .def("__eq__", [](const Measurement& a, const Measurement& b) {
            if (a.technology != b.technology || !(a.value == b.value) || a.registers.size() != b.registers.size())
                return false;
            for (std::size_t i = 0; i < a.registers.size(); ++i)
                if (a.registers[i].name != b.registers[i].name || !(a.registers[i].value == b.registers[i].value))
                    return false;
            return true;
        })
        .def("__repr__", [](const Measurement& x) {
            return fmt::format("cvm.Measurement('{}', {}:{})", x.technology, to_string(x.value.algorithm()), x.value.hex());
        });

    m.def("measure", [](const py::object& source, const py::kwargs& kwargs) { return predict(plan_from(source, kwargs)); },
          py::arg("spec") = py::none(),
          "Predicts the launch measurement, without any hardware:\n"
          "cvm.measure(spec), cvm.measure(plan) or cvm.measure(technology=..., kernel=..., ...).\n"
          "Raises cvm.Error for any configuration the model does not fully understand.");

    py::class_<RunResult>(m, "RunResult", "How a launched guest stopped.")
        .def_property_readonly("reason", [](const RunResult& r) { return std::string(to_string(r.reason)); },
                               "'power-off', 'reset', 'triple-fault', 'emulation-failure', 'timeout' or 'interrupted'.")
        .def_property_readonly("code", [](const RunResult& r) { return static_cast<int>(r.reason); },
                               "cvm-launch's exit code for the reason (0 for power-off).")
        .def_readonly("detail", &RunResult::detail)
        .def("__repr__", [](const RunResult& r) { return fmt::format("cvm.RunResult('{}')", to_string(r.reason)); });

    m.def("launch", [](const py::object& source, const py::object& console, std::optional<double> timeout,
                       const std::string& device, const py::object& owner, const py::kwargs& kwargs) {
              LaunchPlan plan = plan_from(source, kwargs);
              RunOptions options;
              options.console_fd = fd_of(console);
              if (timeout) {
                  if (!(*timeout >= 0) || !std::isfinite(*timeout)) throw Error("timeout: expected seconds >= 0");
                  options.timeout = std::chrono::milliseconds(static_cast<long long>(*timeout * 1000));
              }
              options.device = device;
              const auto& backend = find_backend(plan.technology());
              // Ctrl-C: Python's handler only runs when this thread asks, so
              // the run polls it; a raised KeyboardInterrupt stops the guest
              // cleanly and is re-raised once every vCPU thread has ended.
              bool python_error = false;
              options.interrupted = [&python_error] {
                  py::gil_scoped_acquire locked;
                  if (PyErr_CheckSignals() != 0) python_error = true;
                  return python_error;
              };
              std::optional<py::error_already_set> owner_raised;
              if (!owner.is_none()) options.owner = owner_from_python(owner, owner_raised);
              RunResult result;
              try {
                  py::gil_scoped_release unlocked;
                  result = backend.launch(plan, options);
              } catch (const Error&) {
                  if (owner_raised) throw std::move(*owner_raised);  // the callable's own exception
                  throw;
              }
              if (python_error) throw py::error_already_set();
              return result;
          },
          py::arg("spec") = py::none(), py::kw_only(), py::arg("console") = py::none(), py::arg("timeout") = py::none(),
          py::arg("device") = "/dev/kvm", py::arg("owner") = py::none(),
          "Boots the plan (or spec) on KVM and runs it until it stops; returns a RunResult.\n"
          "console: an fd or file object for the guest's serial output (default: fd 1).\n"
          "timeout: seconds before the guest is stopped (default: none).\n"
          "owner: AMD SEV/SEV-ES only, the guest owner's round trip between LAUNCH_MEASURE and\n"
          "LAUNCH_FINISH: a callable taking the request dict and returning the reply (dict or JSON\n"
          "text; see sev_owner_reply), a command (str) run with sh -c, or a socket fd (int).");
}

} // namespace cvm::python
