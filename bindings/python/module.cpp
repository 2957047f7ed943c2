// The Python module `cvm`: libcvm's C++ API for scripts that build specs,
// predict launch measurements and inspect launch plans.
#include "bindings/python/bindings.hpp"

#include "libcvm/capi/library_version.h"

PYBIND11_MODULE(cvm, m) {
    m.doc() = "libcvm: launch plans, launch measurement predictions and launches of confidential VMs on KVM.\n\n"
              "Describe a VM with cvm.Spec, turn it into a cvm.Plan with cvm.plan(), predict what the\n"
              "hardware will measure with cvm.measure(), or boot it with cvm.launch().";
    m.attr("__version__") = CVM_LIBRARY_VERSION;
    cvm::python::bind_errors(m);
    cvm::python::bind_spec(m);
    cvm::python::bind_event_log(m);
    cvm::python::bind_plan(m);
    cvm::python::bind_measure(m);
    cvm::python::bind_owner(m);
}
