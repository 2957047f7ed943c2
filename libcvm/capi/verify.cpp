// Event-log verification through the C ABI: `cvm-launch log verify` for C
// and Rust verifiers.
#include <cstring>
#include <string>

#include "cvm/cvm.h"
#include "cvm/eventlog.hpp"
#include "libcvm/capi/status.hpp"

using cvm::capi::guarded;

extern "C" {

cvm_status cvm_log_verify(const uint8_t* log, size_t log_size, const char* images, const uint8_t* expected,
                          size_t expected_size, int* match, char** report) {
    CVM_REQUIRE(log || log_size == 0);
    CVM_REQUIRE(images);
    CVM_REQUIRE(expected || expected_size == 0);
    CVM_REQUIRE(match);
    return guarded([&] {
        const cvm::ByteSpan bytes(log, log_size), want(expected, expected_size);
        const auto parsed = cvm::eventlog::read_log(bytes, "event log", {});
        const auto list = cvm::eventlog::ImageList::read(images);
        const auto result = cvm::eventlog::verify(parsed, "event log", list, want);
        if (report) *report = cvm::capi::malloc_copy(cvm::eventlog::to_json(result, want));
        *match = result.matches ? 1 : 0;
    });
}

} // extern "C"
