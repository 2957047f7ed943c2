// What libcvm's riscv64 machine needs from a RISC-V Image beyond its header
// parser (libcvm/image): a little-endian RV64 Linux image that expects to be
// booted 2 MiB into RAM.
#pragma once

#include <string>

#include "cvm/bytes.hpp"
#include "cvm/image.hpp"

namespace cvm::riscv64 {

// Parses and checks the header; throws a cvm::Error naming `name`, the
// offending field's offset, what was expected and what was found.
RiscvImage check_riscv_kernel(ByteSpan file, const std::string& name);

} // namespace cvm::riscv64
