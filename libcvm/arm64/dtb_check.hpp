// Checks a device tree given from outside (a VMM's own DTB) before it goes
// into guest memory: header fields first, then every structure tag, then
// libfdt's full check, so the error names the first offset that is wrong.
#pragma once

#include <string>

#include "cvm/bytes.hpp"

namespace cvm::arm64 {

// Throws a located cvm::Error (file `name`, byte offset, expectation).
void check_dtb(ByteSpan blob, const std::string& name);

} // namespace cvm::arm64
