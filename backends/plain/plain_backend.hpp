#pragma once

#include "cvm/backend.hpp"

namespace cvm {

const Backend& plain_backend();

} // namespace cvm
