// Thread-local error state and the exception-to-status mapping.
#include "libcvm/capi/status.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cvm/error.hpp"

namespace cvm::capi {
namespace {

thread_local std::string last_message;
thread_local int last_errno = 0;

} // namespace

cvm_status fail(cvm_status status, const char* message, int err) {
    try {
        last_message = message;
    } catch (...) {
        last_message.clear();  // out of memory: the status still says what happened
    }
    last_errno = err;
    return status;
}

cvm_status fail_with_current_exception() noexcept {
    try {
        throw;
    } catch (const Error& e) {
        if (e.err() == ENOMEM) return fail(CVM_ERR_NO_MEMORY, e.what(), e.err());
        return fail(e.err() != 0 ? CVM_ERR_SYSTEM : CVM_ERR_INPUT, e.what(), e.err());
    } catch (const std::bad_alloc&) {
        return fail(CVM_ERR_NO_MEMORY, "out of memory", ENOMEM);
    } catch (const std::exception& e) {
        return fail(CVM_ERR_INTERNAL, e.what());
    } catch (...) {
        return fail(CVM_ERR_INTERNAL, "unknown exception inside libcvm");
    }
}

char* malloc_copy(const std::string& text) {
    auto* copy = static_cast<char*>(std::malloc(text.size() + 1));
    if (!copy) throw std::bad_alloc();
    std::memcpy(copy, text.c_str(), text.size() + 1);
    return copy;
}

} // namespace cvm::capi

extern "C" {

const char* cvm_last_error(void) { return cvm::capi::last_message.c_str(); }

int cvm_last_errno(void) { return cvm::capi::last_errno; }

const char* cvm_status_name(cvm_status status) {
    switch (status) {
    case CVM_OK: return "CVM_OK";
    case CVM_ERR_ARGUMENT: return "CVM_ERR_ARGUMENT";
    case CVM_ERR_INPUT: return "CVM_ERR_INPUT";
    case CVM_ERR_SYSTEM: return "CVM_ERR_SYSTEM";
    case CVM_ERR_NO_MEMORY: return "CVM_ERR_NO_MEMORY";
    case CVM_ERR_INTERNAL: return "CVM_ERR_INTERNAL";
    }
    return "CVM_ERR_UNKNOWN";
}

void cvm_free(void* memory) { std::free(memory); }

} // extern "C"
