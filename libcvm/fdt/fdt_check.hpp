// Checks a device tree given from outside (a VMM's own DTB, for Arm CCA,
// plain arm64 or RISC-V CoVE) before libfdt walks it: header fields first,
// then every structure tag with bounds of its own, then libfdt's full
// check, so the error names the first offset that is wrong and no input
// reaches a libfdt path that loops or reads out of bounds.
#pragma once

#include <string>

#include "cvm/bytes.hpp"

namespace cvm {

// Throws a located cvm::Error (file `name`, byte offset, expectation).
void check_dtb(ByteSpan blob, const std::string& name);

} // namespace cvm
