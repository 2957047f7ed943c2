// How the C ABI turns C++ outcomes into status codes: every exported
// function runs its body through `guarded`, which catches every exception,
// records its message for the calling thread and returns the matching code.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "cvm/cvm.h"

namespace cvm::capi {

// Records a failure for cvm_last_error()/cvm_last_errno() and returns `status`.
cvm_status fail(cvm_status status, const char* message, int err = 0);
// Maps the exception in flight to a status and records its message.
cvm_status fail_with_current_exception() noexcept;

// A malloc'ed copy of `text`, for the `char *` results released with cvm_free().
char* malloc_copy(const std::string& text);

template <typename Body>
cvm_status guarded(Body&& body) noexcept {
    try {
        body();
        return CVM_OK;
    } catch (...) {
        return fail_with_current_exception();
    }
}

// Rejects a NULL argument by name.
#define CVM_REQUIRE(pointer) \
    do { if (!(pointer)) return ::cvm::capi::fail(CVM_ERR_ARGUMENT, #pointer " is NULL"); } while (0)

} // namespace cvm::capi
