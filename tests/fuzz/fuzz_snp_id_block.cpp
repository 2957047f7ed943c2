// An SNP ID block or ID auth from anyone (a file given to run --id-block
// --id-auth, or a plan from an event log): the parsers either refuse it
// with a cvm::Error or return fields that write back to exactly the input
// (they accept only what the writer produces: zero reserved bytes, values
// within 48 bytes, algorithm and curve known). The signature check of what
// parsed must not crash either; a point off the curve is an Error.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "cvm/error.hpp"
#include "cvm/snp_id_block.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cvm::sev;
    const cvm::ByteSpan bytes(data, size);
    try {
        const auto block = parse_snp_id_block(bytes, "fuzz");
        const auto back = write_snp_id_block(block);
        if (size != back.size() || std::memcmp(back.data(), data, size) != 0) std::abort();
    } catch (const cvm::Error&) {
    }
    try {
        const auto auth = parse_snp_id_auth(bytes, "fuzz");
        const auto back = write_snp_id_auth(auth);
        if (size != back.size() || std::memcmp(back.data(), data, size) != 0) std::abort();
        // The first 96 bytes stand in for an ID block.
        (void)check_snp_id_signatures(bytes.first(kSnpIdBlockSize), auth, auth.has_author_key());
    } catch (const cvm::Error&) {
    }
    return 0;
}
