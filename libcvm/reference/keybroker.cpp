#include "libcvm/reference/keybroker.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/error.hpp"
#include "libcvm/reference/launch_facts.hpp"

namespace cvm::reference {

std::string keybroker_values(const LaunchValues& values) {
    if (values.technology != "arm-cca")
        throw Error(fmt::format("keybroker-demo takes realm RIMs only (arm-cca), not {} measurements",
                                values.technology));
    RealmFacts realm = realm_facts(values);
    // Its grammar is `rim = bytes .size 32`: a SHA-256 realm's RIM.
    if (realm.rim.size() != 32)
        throw Error(fmt::format("keybroker-demo's reference values are 32-byte RIMs; this realm's RIM is {} ({} bytes)",
                                to_string(realm.rim.algorithm()), realm.rim.size()));
    nlohmann::ordered_json file = {{"reference-values", nlohmann::ordered_json::array({to_base64(realm.rim.bytes())})}};
    return file.dump(2);
}

} // namespace cvm::reference
