// cvm.Spec and cvm.Image: what the VM should be, built with keyword
// arguments; cvm.technologies(): what libcvm can launch and predict.
#include <pybind11/stl.h>

#include <fmt/format.h>

#include "bindings/python/bindings.hpp"
#include "cvm/error.hpp"

namespace cvm::python {
namespace {

ImageRole parse_role(const std::string& name) {
    for (auto role : {ImageRole::kernel, ImageRole::initrd, ImageRole::firmware, ImageRole::dtb, ImageRole::blob})
        if (to_string(role) == name) return role;
    throw Error(fmt::format("unknown image role '{}': expected kernel, initrd, firmware, dtb or blob", name));
}

// A path (str or os.PathLike) is mapped; bytes-like data is copied once.
Payload payload_of(const py::handle& data, ImageRole role) {
    if (py::isinstance<py::str>(data) || py::hasattr(data, "__fspath__")) {
        auto path = py::module_::import("os").attr("fspath")(data).cast<std::string>();
        py::gil_scoped_release unlocked;
        return Payload::map_file(path);
    }
    if (PyObject_CheckBuffer(data.ptr())) {
        // PyBUF_SIMPLE only succeeds for contiguous bytes.
        Py_buffer view;
        if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) != 0) throw py::error_already_set();
        auto* bytes = static_cast<const std::uint8_t*>(view.buf);
        std::vector<std::uint8_t> copy(bytes, bytes + view.len);
        PyBuffer_Release(&view);
        return Payload::from_bytes(std::move(copy), fmt::format("{} buffer", to_string(role)));
    }
    throw Error(fmt::format("{} image: expected a path or bytes, got {}", to_string(role),
                            py::str(py::type::of(data).attr("__name__")).cast<std::string>()));
}

ImageSpec make_image(const std::string& role_name, const py::handle& data, bool measured,
                     std::optional<std::uint64_t> gpa) {
    ImageSpec image;
    image.role = parse_role(role_name);
    if (gpa && image.role != ImageRole::blob)
        throw Error(fmt::format("a {} image is placed by the technology's layout rules: gpa is for blobs only",
                                role_name));
    image.payload = payload_of(data, image.role);
    image.measured = measured;
    image.gpa = gpa;
    return image;
}

std::uint64_t memory_size(const py::handle& value) {
    if (py::isinstance<py::str>(value)) return parse_size(value.cast<std::string>(), "memory");
    return value.cast<std::uint64_t>();
}

// Applies one keyword argument of Spec(...) / cvm.measure(...).
void apply(VmSpec& spec, const std::string& key, const py::handle& value) {
    if (key == "technology") spec.technology = value.cast<std::string>();
    else if (key == "memory") spec.memory.size = memory_size(value);
    else if (key == "vcpus") spec.vcpus.count = value.cast<unsigned>();
    else if (key == "cmdline") spec.cmdline = value.cast<std::string>();
    else if (key == "options") {
        for (auto [name, option] : value.cast<py::dict>())
            spec.options[py::str(name).cast<std::string>()] = py::str(option).cast<std::string>();
    } else if (key == "kernel" || key == "initrd" || key == "firmware" || key == "dtb") {
        if (!value.is_none()) spec.images.push_back(make_image(key, value, true, std::nullopt));
    } else if (key == "images") {
        for (auto image : value) spec.images.push_back(image.cast<ImageSpec>());
    } else {
        throw Error(fmt::format("unknown spec argument '{}': expected technology, memory, vcpus, cmdline, "
                                "options, kernel, initrd, firmware, dtb or images", key));
    }
}

std::string image_repr(const ImageSpec& image) {
    return fmt::format("cvm.Image('{}', '{}', size={}{}{})", to_string(image.role), image.payload.name(),
                       image.payload.size(), image.measured ? "" : ", measured=False",
                       image.gpa ? fmt::format(", gpa={:#x}", *image.gpa) : "");
}

} // namespace

VmSpec spec_from_kwargs(const py::kwargs& kwargs) {
    VmSpec spec;
    for (auto [key, value] : kwargs) apply(spec, key.cast<std::string>(), value);
    return spec;
}

void bind_spec(py::module_& m) {
    py::class_<OptionInfo>(m, "Option", "A technology option a Spec may set in `options`.")
        .def_readonly("name", &OptionInfo::name)
        .def_readonly("help", &OptionInfo::help)
        .def_readonly("default", &OptionInfo::default_value, "The value used when the spec sets none ('' if none).")
        .def_readonly("choices", &OptionInfo::choices, "The allowed values; empty when any value is allowed.")
        .def("__repr__", [](const OptionInfo& o) { return fmt::format("cvm.Option('{}')", o.name); });

    py::class_<Backend, std::unique_ptr<Backend, py::nodelete>>(m, "Technology",
                                                                 "A technology compiled into libcvm.")
        .def_property_readonly("name", [](const Backend& b) { return std::string(b.name()); })
        .def_property_readonly("summary", [](const Backend& b) { return std::string(b.summary()); })
        .def_property_readonly("options", &Backend::options, "The options its specs accept.")
        .def("runtime_extend", [](const Backend& b, const py::bytes& old_value, const py::bytes& value) {
            std::string old_bytes = old_value;
            std::string value_bytes = value;
            auto as_span = [](const std::string& text) {
                return ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
            };
            Digest old_digest(algorithm_of_digest_size(old_bytes.size()), as_span(old_bytes));
            Digest updated = b.runtime_extend(old_digest, as_span(value_bytes));
            return to_bytes(updated.bytes());
        }, py::arg("old_value"), py::arg("value"),
           "A running guest's extend of one of its measurement registers (Arm CCA: a REM; RISC-V CoVE:\n"
           "a runtime register), by the technology's rule. The register's size names its hash (32, 48\n"
           "or 64 bytes). Returns the new value. cvm.Error where the technology has no such register.")
        .def("__repr__", [](const Backend& b) { return fmt::format("cvm.Technology('{}')", b.name()); });

    m.def("technologies", [] {
        std::vector<const Backend*> list(all_backends().begin(), all_backends().end());
        return list;
    }, py::return_value_policy::reference, "Every technology compiled into libcvm, e.g. 'plain'.");

    py::class_<ImageSpec>(m, "Image", "An image of a Spec: its role, its bytes, whether they are measured.")
        .def(py::init([](const std::string& role, const py::object& data, bool measured,
                         std::optional<std::uint64_t> gpa) { return make_image(role, data, measured, gpa); }),
             py::arg("role"), py::arg("data"), py::arg("measured") = true, py::arg("gpa") = py::none(),
             "role: 'kernel', 'initrd', 'firmware', 'dtb' or 'blob'. data: a path (mapped, not copied)\n"
             "or bytes (copied once). measured=False loads without measuring. gpa: where a blob goes.")
        .def_property_readonly("role", [](const ImageSpec& i) { return std::string(to_string(i.role)); })
        .def_property_readonly("source", [](const ImageSpec& i) { return i.payload.name(); },
                               "The file path, or a description of in-memory data.")
        .def_property_readonly("size", [](const ImageSpec& i) { return i.payload.size(); })
        .def_readonly("measured", &ImageSpec::measured)
        .def_readonly("gpa", &ImageSpec::gpa)
        .def("__repr__", &image_repr);

    py::class_<VmSpec>(m, "Spec",
                       "What the VM should be, before any layout decision.\n\n"
                       "    cvm.Spec('plain', memory='128M', vcpus=2, kernel='bzImage', cmdline='console=ttyS0')\n\n"
                       "Arguments: technology, memory (bytes or '256M'), vcpus, cmdline, options (a dict of\n"
                       "technology options), kernel/initrd/firmware/dtb (a path or bytes), images (cvm.Image list).")
        .def(py::init([](const std::string& technology, const py::kwargs& kwargs) {
                 VmSpec spec = spec_from_kwargs(kwargs);
                 spec.technology = technology;
                 return spec;
             }),
             py::arg("technology") = "plain")
        .def_readwrite("technology", &VmSpec::technology)
        .def_property("memory", [](const VmSpec& s) { return s.memory.size; },
                      [](VmSpec& s, const py::object& v) { s.memory.size = memory_size(v); },
                      "Bytes of guest RAM; accepts '256M'-style strings.")
        .def_property("vcpus", [](const VmSpec& s) { return s.vcpus.count; },
                      [](VmSpec& s, unsigned v) { s.vcpus.count = v; })
        .def_readwrite("cmdline", &VmSpec::cmdline)
        .def_readwrite("options", &VmSpec::options, "Technology options (a copy: assign to change).")
        .def_readonly("images", &VmSpec::images)
        .def("add_image", [](VmSpec& s, const std::string& role, const py::object& data, bool measured,
                             std::optional<std::uint64_t> gpa) { s.images.push_back(make_image(role, data, measured, gpa)); },
             py::arg("role"), py::arg("data"), py::arg("measured") = true, py::arg("gpa") = py::none(),
             "Adds an image; the arguments are those of cvm.Image.")
        .def("__repr__", [](const VmSpec& s) {
            return fmt::format("cvm.Spec('{}', memory={:#x}, vcpus={}, images={})", s.technology, s.memory.size,
                               s.vcpus.count, s.images.size());
        });
}

} // namespace cvm::python
