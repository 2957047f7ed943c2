#include "libcvm/reference/trustee.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/error.hpp"
#include "libcvm/reference/launch_facts.hpp"

namespace cvm::reference {

namespace {

// SNP: the names of attestation-service/src/ear_token/ear_default_policy_cpu.rego.
// The measurement is matched with `in` (a list), in the lowercase hex the
// SNP verifier gives it; the policy fields with `==` (plain values), as the
// verifier decodes them from the report's POLICY (deps/verifier/src/snp).
nlohmann::ordered_json snp_payload(const SnpFacts& snp) {
    const auto abi_minor = snp.policy & 0xff;
    const auto abi_major = (snp.policy >> 8) & 0xff;
    const bool smt_allowed = (snp.policy >> 16) & 1;
    const bool single_socket = (snp.policy >> 20) & 1;
    return {
        {"snp_launch_measurement", nlohmann::ordered_json::array({snp.measurement.hex()})},
        {"snp_guest_abi_major", abi_major},
        {"snp_guest_abi_minor", abi_minor},
        {"snp_smt_allowed", smt_allowed},
        {"snp_single_socket", single_socket},
    };
}

// CCA: the name deps/verifier/test_data/cca/conf/default.rego matches the
// realm token's RIM against, in the standard base64 the CCA verifier gives
// the claim (deps/verifier/src/cca/mod.rs).
nlohmann::ordered_json realm_payload(const RealmFacts& realm) {
    return {{"cca.realm.cca-realm-initial-measurement", nlohmann::ordered_json::array({to_base64(realm.rim.bytes())})}};
}

} // namespace

std::string trustee_payload(const LaunchValues& values) {
    if (values.technology == "amd-sev-snp") return snp_payload(snp_facts(values)).dump();
    if (values.technology == "arm-cca") return realm_payload(realm_facts(values)).dump();
    throw Error(fmt::format("Trustee has no reference values for {}: its policies match amd-sev-snp and arm-cca "
                            "launches (docs/reference-values.md)",
                            values.technology));
}

std::string trustee_message(const LaunchValues& values) {
    std::string payload = trustee_payload(values);
    nlohmann::ordered_json message = {
        {"version", "0.1.0"},  // the only version rvps accepts (MESSAGE_VERSION)
        {"type", "sample"},
        {"payload", to_base64({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()})},
    };
    return message.dump(4);
}

} // namespace cvm::reference
