// The ids of a CoRIM, which need no CBOR: a build without libcbor still
// names the document it cannot write the same way.
#include <algorithm>

#include <fmt/format.h>

#include "cvm/digest.hpp"
#include "libcvm/reference/corim.hpp"

namespace cvm::reference {

CorimIds corim_ids_for(const LaunchValues& values) {
    Hasher h(HashAlgorithm::sha256);
    h.update(std::string_view("libcvm reference values\0", 24)).update(values.technology).update(values.measurement.bytes());
    Digest d = h.finish();
    CorimIds ids;
    std::copy_n(d.bytes().begin(), 16, ids.tag_id.begin());
    ids.tag_id[6] = static_cast<std::uint8_t>((ids.tag_id[6] & 0x0f) | 0x80);  // version 8
    ids.tag_id[8] = static_cast<std::uint8_t>((ids.tag_id[8] & 0x3f) | 0x80);  // variant 10
    std::string hex = to_hex(ids.tag_id);
    ids.corim_id = fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                               hex.substr(16, 4), hex.substr(20));
    return ids;
}

} // namespace cvm::reference
