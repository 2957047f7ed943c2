// The digests of one payload's bytes in several algorithms, computed in one
// pass: those the payload already remembers are taken as they are, the
// others fed the bytes by whoever reads them (cvm::hash, or the page-hash
// walk that reads them anyway) and remembered with the payload at the end.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"

namespace cvm {

class PayloadDigests {
public:
    PayloadDigests(const Payload& payload, const std::vector<HashAlgorithm>& algorithms);

    // True when some digest still needs the payload's bytes.
    bool pending() const { return !pending_.empty(); }
    // The next bytes of the payload, in order.
    void update(ByteSpan bytes);
    // Every digest, in the order asked; the computed ones are remembered.
    std::vector<Digest> finish();

private:
    const Payload& payload_;
    std::vector<HashAlgorithm> algorithms_;
    std::vector<std::optional<Digest>> known_;
    std::vector<std::pair<std::size_t, Hasher>> pending_;  // index in algorithms_, its hasher
};

} // namespace cvm
