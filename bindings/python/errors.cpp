// cvm.Error: every cvm::Error reaches Python as this exception, with the
// message and the fields a script needs to react to it.
#include "bindings/python/bindings.hpp"

#include "cvm/error.hpp"

namespace cvm::python {

void bind_errors(py::module_& m) {
    // An OSError, as Python's own I/O errors are: `except OSError` catches
    // it and its errno is the usual attribute.
    static py::exception<Error> error(m, "Error", PyExc_OSError);
    error.doc() =
        "A libcvm failure: a malformed input, an unknown technology or option, a configuration the\n"
        "measurement model does not fully understand, or a refused system call. A subclass of OSError.\n\n"
        "Attributes: message (without location), errno (0 unless a system call failed), where (the\n"
        "file, ioctl or option concerned, or ''), offset (byte offset inside `where`, or None).";
    py::register_exception_translator([](std::exception_ptr thrown) {
        try {
            if (thrown) std::rethrow_exception(thrown);
        } catch (const Error& e) {
            py::object instance = py::handle(error.ptr())(e.what());
            instance.attr("message") = e.message();
            // errno only: with strerror or filename set, OSError would print
            // "[Errno n] ..." instead of libcvm's located message.
            instance.attr("errno") = e.err();
            instance.attr("where") = e.where();
            instance.attr("offset") = e.offset() ? py::cast(*e.offset()) : py::none();
            PyErr_SetObject(error.ptr(), instance.ptr());
        }
    });
}

} // namespace cvm::python
