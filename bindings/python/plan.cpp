// cvm.Plan: the launch plan as Python objects, one class per operation, and
// the plan's measured steps (cvm.PlanEvent).
#include <pybind11/stl.h>

#include <fmt/format.h>

#include "bindings/python/bindings.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm::python {
namespace {

py::list operations_of(const LaunchPlan& plan) {
    py::list list;
    for (const auto& operation : plan.operations())
        list.append(std::visit([](const auto& o) { return py::cast(o); }, operation));
    return list;
}

std::vector<PlanEvent> events_of(const LaunchPlan& plan) {
    const auto& backend = find_backend(plan.technology());
    py::gil_scoped_release unlocked;  // hashes every payload
    return backend.events(plan);
}

} // namespace

LaunchPlan plan_from(const py::object& source, const py::kwargs& kwargs) {
    if (!source.is_none() && py::isinstance<LaunchPlan>(source)) {
        if (kwargs.size()) throw Error("spec arguments cannot be given with a Plan");
        return source.cast<LaunchPlan>();
    }
    VmSpec spec;
    if (source.is_none()) spec = spec_from_kwargs(kwargs);
    else if (py::isinstance<VmSpec>(source) && !kwargs.size()) spec = source.cast<VmSpec>();
    else throw Error("expected a cvm.Spec, a cvm.Plan, or spec keyword arguments");
    const auto& backend = find_backend(spec.technology);
    py::gil_scoped_release unlocked;
    return backend.build_plan(spec);
}

void bind_plan(py::module_& m) {
    py::class_<op::CreateVm>(m, "CreateVm", "Create and configure the VM with the backend's configuration.")
        .def_property_readonly("kind", [](const op::CreateVm&) { return "create-vm"; })
        .def_property_readonly("config", [](const op::CreateVm& o) {
            std::vector<std::pair<std::string, std::string>> fields;
            for (const auto& field : o.fields()) fields.emplace_back(field.name, field.value);
            return fields;
        }, "the configuration as (name, value) text pairs in the backend's order: policy, s2sz, ...")
        .def("__repr__", [](const op::CreateVm& o) { return fmt::format("cvm.CreateVm({} fields)", o.fields().size()); });
    py::class_<op::AddMemory>(m, "AddMemory", "Back [gpa, gpa+size) with guest RAM, private if `confidential`.")
        .def_property_readonly("kind", [](const op::AddMemory&) { return "add-memory"; })
        .def_readonly("gpa", &op::AddMemory::gpa)
        .def_readonly("size", &op::AddMemory::size)
        .def_readonly("confidential", &op::AddMemory::confidential)
        .def_readonly("label", &op::AddMemory::label)
        .def("__repr__", [](const op::AddMemory& o) {
            return fmt::format("cvm.AddMemory(gpa={:#x}, size={:#x}, confidential={}, label='{}')", o.gpa, o.size,
                               o.confidential ? "True" : "False", o.label);
        });
    py::class_<op::LoadData>(m, "LoadData", "Copy bytes to a GPA; `measured` says whether they enter the measurement.")
        .def_property_readonly("kind", [](const op::LoadData&) { return "load-data"; })
        .def_readonly("gpa", &op::LoadData::gpa)
        .def_property_readonly("size", [](const op::LoadData& o) { return o.data.size(); })
        .def_property_readonly("data", [](const op::LoadData& o) { return to_bytes(o.data.bytes()); },
                               "The bytes (a copy made on each access).")
        .def_property_readonly("source", [](const op::LoadData& o) { return o.data.name(); },
                               "The file the bytes come from, or what generated them.")
        .def_readonly("measured", &op::LoadData::measured)
        .def_readonly("label", &op::LoadData::label)
        .def_readonly("page_type", &op::LoadData::page_type, "A technology's page kind ('' for ordinary data).")
        .def("__repr__", [](const op::LoadData& o) {
            return fmt::format("cvm.LoadData(gpa={:#x}, size={:#x}, label='{}'{})", o.gpa, o.data.size(), o.label,
                               o.measured ? "" : ", measured=False");
        });
    py::class_<op::CreateVcpus>(m, "CreateVcpus", "Create vCPUs 0..count-1; vCPU 0 boots.")
        .def_property_readonly("kind", [](const op::CreateVcpus&) { return "create-vcpus"; })
        .def_readonly("count", &op::CreateVcpus::count)
        .def("__repr__", [](const op::CreateVcpus& o) { return fmt::format("cvm.CreateVcpus({})", o.count); });
    py::class_<op::SetRegisters>(m, "SetRegisters", "The initial registers of one vCPU, by architecture name.")
        .def_property_readonly("kind", [](const op::SetRegisters&) { return "set-registers"; })
        .def_readonly("vcpu", &op::SetRegisters::vcpu)
        .def_property_readonly("registers", [](const op::SetRegisters& o) {
            py::dict registers;
            for (const auto& r : o.registers) registers[py::str(r.name)] = r.value;
            return registers;
        }, "A dict of register name to value, in the plan's order.")
        .def("__repr__", [](const op::SetRegisters& o) {
            return fmt::format("cvm.SetRegisters(vcpu={}, {} registers)", o.vcpu, o.registers.size());
        });
    py::class_<op::AddDevice>(m, "AddDevice",
                              "A device of the machine: its kind, the ranges it decodes and its interrupt.")
        .def_property_readonly("kind", [](const op::AddDevice&) { return "add-device"; })
        .def_property_readonly("device", [](const op::AddDevice& o) { return std::string(op::to_string(o.kind)); },
                               "The device's kind, e.g. 'gic-v3' or 'uart-16550'.")
        .def_property_readonly("regions", [](const op::AddDevice& o) {
            py::list regions;
            for (const auto& r : o.regions)
                regions.append(py::make_tuple(r.space == op::AddressSpace::pio ? "pio" : "mmio", r.base, r.size));
            return regions;
        }, "A list of (space, base, size), space 'mmio' or 'pio'.")
        .def_readonly("interrupt", &op::AddDevice::interrupt, "The interrupt it raises, or None.")
        .def_property_readonly("files", [](const op::AddDevice& o) {
            std::vector<std::pair<std::string, py::bytes>> files;
            for (const auto& f : o.files) {
                auto b = f.data.bytes();
                files.emplace_back(f.name, to_bytes(b));
            }
            return files;
        }, "(name, bytes) of each file it serves the guest (fw_cfg: kernel, initrd, cmdline, ...)")
        .def("__repr__", [](const op::AddDevice& o) {
            return fmt::format("cvm.AddDevice('{}', {} regions)", op::to_string(o.kind), o.regions.size());
        });
    py::class_<op::Finalize>(m, "Finalize", "Seal the initial state and start running.")
        .def_property_readonly("kind", [](const op::Finalize&) { return "finalize"; })
        .def("__repr__", [](const op::Finalize&) { return "cvm.Finalize()"; });

    py::class_<PlanEvent>(m, "PlanEvent", "One measured step of a plan, as the backend's measurement model sees it.")
        .def_readonly("kind", &PlanEvent::kind)
        .def_readonly("description", &PlanEvent::description)
        .def_property_readonly("digest", [](const PlanEvent& e) { return to_bytes(e.digest.bytes()); })
        .def_property_readonly("hex", [](const PlanEvent& e) { return e.digest.hex(); })
        .def("__repr__", [](const PlanEvent& e) { return fmt::format("cvm.PlanEvent('{}')", e.description); });

    py::class_<LaunchPlan> plan(m, "Plan",
                                "The ordered operations a launch performs: read by the launcher and by the predictor.");
    bind_plan_event_log(plan);
    plan.def_property_readonly("technology", &LaunchPlan::technology)
        .def_property_readonly("algorithm", [](const LaunchPlan& p) { return std::string(to_string(p.algorithm())); })
        .def_property_readonly("operations", &operations_of,
                               "A list of CreateVm, AddMemory, LoadData, CreateVcpus, SetRegisters, Finalize.")
        .def("__len__", [](const LaunchPlan& p) { return p.operations().size(); })
        .def("__iter__", [](const LaunchPlan& p) { return py::iter(operations_of(p)); })
        .def("events", &events_of, "The plan's measured steps, in order (list of PlanEvent).")
        .def("to_text", &LaunchPlan::to_text, "One line per operation.")
        .def("to_json", &LaunchPlan::to_json, "The plan as JSON; loaded data by GPA, size and SHA-256.")
        .def("__repr__", [](const LaunchPlan& p) {
            return fmt::format("cvm.Plan('{}', {} operations)", p.technology(), p.operations().size());
        });

    m.def("plan", &plan_from, py::arg("spec") = py::none(),
          "Applies the technology's layout rules: cvm.plan(spec) or cvm.plan(technology=..., kernel=..., ...).");
}

} // namespace cvm::python
