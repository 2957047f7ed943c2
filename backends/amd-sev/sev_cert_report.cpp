// The PDH chain check's result as JSON: one form for cvm-launch
// verify-pdh-chain --json, cvm_sev_verify_pdh_chain and Python.
#include <nlohmann/json.hpp>

#include "cvm/digest.hpp"
#include "cvm/sev_cert.hpp"

namespace cvm::sev {

std::string coordinate_hex(const std::array<std::uint8_t, kSevEcField>& le) {
    std::vector<std::uint8_t> be(le.rend() - 48, le.rend());
    return to_hex(be);
}

std::string pdh_chain_report_json(const PdhChain& chain, const PdhChainResult& result) {
    nlohmann::ordered_json j;
    j["trusted"] = result.trusted();
    j["pdh"] = {{"api", std::to_string(chain.pdh.api_major) + "." + std::to_string(chain.pdh.api_minor)},
                {"algo", to_string(chain.pdh.algo)},
                {"qx", coordinate_hex(chain.pdh.qx)},
                {"qy", coordinate_hex(chain.pdh.qy)}};
    j["checked"] = result.checked;
    j["failures"] = result.failures;
    return j.dump(2);
}

} // namespace cvm::sev
