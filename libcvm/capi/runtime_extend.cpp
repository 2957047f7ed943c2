// cvm_runtime_extend: a backend's runtime-extend rule for C callers.
#include <algorithm>

#include "cvm/backend.hpp"
#include "libcvm/capi/status.hpp"

using cvm::capi::fail;
using cvm::capi::guarded;

extern "C" {

cvm_status cvm_runtime_extend(const char* technology, const uint8_t* old_value, size_t old_size,
                              const uint8_t* value, size_t value_size, uint8_t* out) {
    CVM_REQUIRE(technology);
    CVM_REQUIRE(old_value);
    CVM_REQUIRE(out);
    if (value_size != 0 && !value) return fail(CVM_ERR_ARGUMENT, "value is NULL but value_size is not 0");
    return guarded([&] {
        const cvm::Backend& backend = cvm::find_backend(technology);
        cvm::Digest old_digest(cvm::algorithm_of_digest_size(old_size), cvm::ByteSpan(old_value, old_size));
        cvm::Digest updated = backend.runtime_extend(old_digest, cvm::ByteSpan(value, value_size));
        std::copy(updated.bytes().begin(), updated.bytes().end(), out);
    });
}

} // extern "C"
