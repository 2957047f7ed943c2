// A predicted launch measurement.
#pragma once

#include <string>
#include <vector>

#include "cvm/digest.hpp"

namespace cvm {

struct NamedDigest {
    std::string name;
    Digest value;
};

struct Measurement {
    std::string technology;
    // The value the hardware reports (RIM, launch digest, TVM register, ...).
    Digest value;
    // Further registers where the technology has several, in report order.
    std::vector<NamedDigest> registers;

    // {"technology":..., "algorithm":..., "measurement":..., "registers":{...}}
    std::string to_json() const;
};

} // namespace cvm
