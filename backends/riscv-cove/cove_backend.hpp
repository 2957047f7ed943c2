#pragma once

#include "cvm/backend.hpp"

namespace cvm {

const Backend& riscv_cove_backend();

} // namespace cvm
