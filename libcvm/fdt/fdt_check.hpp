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

// check_dtb for a DTB the guest gets as it is, and what the launch would
// otherwise silently not do: a command line (the tree's /chosen/bootargs is
// what the guest reads) or a vCPU count other than the CPU nodes under
// /cpus (the guest would bring up the tree's CPUs, not the VM's).
void check_dtb_used_as_is(ByteSpan blob, const std::string& name, const std::string& cmdline, unsigned vcpus);

} // namespace cvm
