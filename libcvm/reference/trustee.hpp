// Trustee's RVPS "sample" message (confidential-containers/trustee
// rvps/src/lib.rs, rvps/src/extractors/sample): {"version": "0.1.0",
// "type": "sample", "payload": base64 of a JSON object of reference-value
// name -> value}, under the names Trustee's policies query.
#pragma once

#include <string>

#include "cvm/reference_values.hpp"

namespace cvm::reference {

// The payload object (JSON text) and the message that carries it.
std::string trustee_payload(const LaunchValues& values);
std::string trustee_message(const LaunchValues& values);

} // namespace cvm::reference
