#include "libcvm/digest/payload_digests.hpp"

namespace cvm {

PayloadDigests::PayloadDigests(const Payload& payload, const std::vector<HashAlgorithm>& algorithms)
    : payload_(payload), algorithms_(algorithms), known_(algorithms.size()) {
    for (std::size_t i = 0; i < algorithms_.size(); ++i) {
        if (auto d = payload_.remembered_digest(static_cast<unsigned>(algorithms_[i])); !d.empty())
            known_[i] = Digest(algorithms_[i], d);
        else
            pending_.emplace_back(i, Hasher(algorithms_[i]));
    }
}

void PayloadDigests::update(ByteSpan bytes) {
    for (auto& [i, h] : pending_) h.update(bytes);
}

std::vector<Digest> PayloadDigests::finish() {
    for (auto& [i, h] : pending_) {
        known_[i] = h.finish();
        payload_.remember_digest(static_cast<unsigned>(algorithms_[i]), known_[i]->bytes());
    }
    pending_.clear();
    std::vector<Digest> out;
    for (auto& d : known_) out.push_back(*d);
    return out;
}

} // namespace cvm
