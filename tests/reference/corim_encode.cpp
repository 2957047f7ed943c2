// The CoRIM writers with values given on the command line, so the oracle
// test can feed them another project's values and compare the documents:
//   corim-encode realm CORIM_ID TAG_ID RIM RPV [REM0 REM1 REM2 REM3]
//   corim-encode snp CORIM_ID TAG_ID MEASUREMENT POLICY [HOST_DATA]
// Byte strings in hex; POLICY a hex number; the CBOR goes to stdout.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cvm/error.hpp"
#include "libcvm/reference/corim.hpp"

namespace {

using namespace cvm;

Digest digest(const char* hex) {
    auto bytes = from_hex(hex, "digest");
    return Digest(algorithm_of_digest_size(bytes.size()), bytes);
}

reference::CorimIds ids(const char* corim_id, const char* tag_id) {
    reference::CorimIds out;
    out.corim_id = corim_id;
    auto bytes = from_hex(tag_id, "tag id");
    if (bytes.size() != out.tag_id.size()) throw Error("a tag id is 16 bytes");
    std::copy(bytes.begin(), bytes.end(), out.tag_id.begin());
    return out;
}

} // namespace

int main(int argc, char** argv) {
    try {
        std::string kind = argc > 1 ? argv[1] : "";
        std::vector<std::uint8_t> document;
        if (kind == "realm" && (argc == 6 || argc == 10)) {
            reference::RealmFacts realm;
            realm.rim = digest(argv[4]);
            realm.rpv = from_hex(argv[5], "rpv");
            for (int i = 6; i < argc; ++i) realm.rems.push_back(digest(argv[i]));
            document = reference::realm_corim(realm, ids(argv[2], argv[3]));
        } else if (kind == "snp" && (argc == 6 || argc == 7)) {
            reference::SnpFacts snp;
            snp.measurement = digest(argv[4]);
            snp.policy = std::stoull(argv[5], nullptr, 16);
            if (argc == 7) snp.host_data = from_hex(argv[6], "host data");
            document = reference::snp_corim(snp, ids(argv[2], argv[3]));
        } else {
            std::fprintf(stderr, "usage: corim-encode realm|snp CORIM_ID TAG_ID ... (see the source)\n");
            return 2;
        }
        std::fwrite(document.data(), 1, document.size(), stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corim-encode: %s\n", e.what());
        return 1;
    }
}
