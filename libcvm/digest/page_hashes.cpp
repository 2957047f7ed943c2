#include "libcvm/digest/page_hashes.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <thread>
#include <vector>

namespace cvm {
namespace {

// Pages per window: 8 MiB in flight, enough for every core to have long
// runs of work between the serial hand-overs.
constexpr std::size_t kWindowPages = 2048;

// The bytes of page `index` of a load: whole pages are read in place, the
// first and last partial ones are copied into `scratch` among zeros.
ByteSpan page_bytes(ByteSpan data, std::size_t lead, std::size_t index, std::array<std::uint8_t, kPageSize>& scratch) {
    const std::size_t page_start = index * kPageSize;  // in load coordinates, lead included
    const std::size_t lo = std::max(page_start, lead), hi = std::min(page_start + kPageSize, lead + data.size());
    ByteSpan part = data.subspan(lo - lead, hi - lo);
    if (part.size() == kPageSize) return part;
    scratch.fill(0);
    std::copy(part.begin(), part.end(), scratch.begin() + (lo - page_start));
    return ByteSpan(scratch.data(), scratch.size());
}

unsigned worker_count() {
    unsigned n = std::thread::hardware_concurrency();
    return std::clamp(n, 1u, 16u);
}

} // namespace

void for_each_page_hash(HashAlgorithm algorithm, ByteSpan data, std::size_t lead, const Payload* payload,
                        const std::function<void(std::size_t, const Digest&)>& consume) {
    const std::size_t pages = pages_covered(lead, data.size());
    const unsigned workers = pages >= 64 ? worker_count() : 1;  // small loads: no threads
    std::vector<Hasher> hashers;
    for (unsigned w = 0; w < workers; ++w) hashers.emplace_back(algorithm);
    std::vector<Digest> window(std::min(pages, kWindowPages));

    for (std::size_t first = 0; first < pages; first += kWindowPages) {
        const std::size_t count = std::min(kWindowPages, pages - first);
        // The window's bytes in data coordinates, for prefetch and release.
        const std::size_t byte_lo = first == 0 ? 0 : first * kPageSize - lead;
        const std::size_t byte_hi = std::min(data.size(), (first + count) * kPageSize - lead);
        if (payload) payload->prefetch(static_cast<std::size_t>(data.data() - payload->bytes().data()) + byte_lo,
                                       byte_hi - byte_lo);
        // Worker w hashes pages first+w, first+w+workers, ...: interleaved so
        // every core streams through the same prefetched range.
        auto hash_share = [&](unsigned w) {
            std::array<std::uint8_t, kPageSize> scratch;
            for (std::size_t i = w; i < count; i += workers)
                window[i] = hashers[w].update(page_bytes(data, lead, first + i, scratch)).finish();
        };
        std::vector<std::thread> threads;
        std::vector<std::exception_ptr> errors(workers);
        for (unsigned w = 1; w < workers; ++w)
            threads.emplace_back([&, w] {
                try {
                    hash_share(w);
                } catch (...) {
                    errors[w] = std::current_exception();
                }
            });
        try {
            hash_share(0);
        } catch (...) {
            errors[0] = std::current_exception();
        }
        for (auto& t : threads) t.join();
        for (auto& e : errors)
            if (e) std::rethrow_exception(e);
        if (payload) payload->release(static_cast<std::size_t>(data.data() - payload->bytes().data()) + byte_lo,
                                      byte_hi - byte_lo);
        for (std::size_t i = 0; i < count; ++i) consume(first + i, window[i]);
    }
}

} // namespace cvm
