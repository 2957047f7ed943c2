// veraison/keybroker-demo's --reference-values file
// (rust-keybroker/keybroker-server/README.md): {"reference-values": [b64-rim]},
// each RIM 32 bytes in standard base64, matched by its arm-cca.rego against
// the realm token's cca-realm-initial-measurement claim.
#pragma once

#include <string>

#include "cvm/reference_values.hpp"

namespace cvm::reference {

std::string keybroker_values(const LaunchValues& values);

} // namespace cvm::reference
