#pragma once

#include "cvm/backend.hpp"

namespace cvm {

// One implementation registered under three names: amd-sev, amd-sev-es, amd-sev-snp.
const Backend& amd_sev_backend();
const Backend& amd_sev_es_backend();
const Backend& amd_sev_snp_backend();

} // namespace cvm
