#include "cvm/measurement.hpp"

#include <nlohmann/json.hpp>

namespace cvm {

std::string Measurement::to_json() const {
    nlohmann::ordered_json root;
    root["technology"] = technology;
    root["algorithm"] = to_string(value.algorithm());
    root["measurement"] = value.hex();
    if (!registers.empty()) {
        nlohmann::ordered_json regs = nlohmann::ordered_json::object();
        for (const auto& r : registers) regs[r.name] = r.value.hex();
        root["registers"] = regs;
    }
    return root.dump(2);
}

} // namespace cvm
