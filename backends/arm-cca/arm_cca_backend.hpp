#pragma once

#include "cvm/backend.hpp"

namespace cvm {

const Backend& arm_cca_backend();

} // namespace cvm
