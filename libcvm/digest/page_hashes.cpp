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

// Where a load's bytes come from: memory (perhaps a mapped payload, whose
// pages are prefetched and released around each window), or a payload that
// streams from its file, each worker reading its share into its own buffer.
struct Source {
    std::size_t size = 0;
    ByteSpan memory;                   // in memory: the whole load
    const Payload* mapped = nullptr;   // in memory and mapped: the payload `memory` is, at `mapped_at`
    std::size_t mapped_at = 0;
    const Payload* file = nullptr;     // streaming
};

// The bytes of page `index` of a load, given `chunk`, the load's bytes from
// `chunk_at` on (data coordinates): whole pages are read in place, the first
// and last partial ones are copied into `scratch` among zeros.
ByteSpan page_bytes(ByteSpan chunk, std::size_t chunk_at, std::size_t size, std::size_t lead, std::size_t index,
                    std::array<std::uint8_t, kPageSize>& scratch) {
    const std::size_t page_start = index * kPageSize;  // in load coordinates, lead included
    const std::size_t lo = std::max(page_start, lead), hi = std::min(page_start + kPageSize, lead + size);
    ByteSpan part = chunk.subspan(lo - lead - chunk_at, hi - lo);
    if (part.size() == kPageSize) return part;
    scratch.fill(0);
    std::copy(part.begin(), part.end(), scratch.begin() + (lo - page_start));
    return ByteSpan(scratch.data(), scratch.size());
}

unsigned worker_count() {
    unsigned n = std::thread::hardware_concurrency();
    return std::clamp(n, 1u, 16u);
}

// The data bytes pages [first, first + count) cover.
std::pair<std::size_t, std::size_t> byte_range(std::size_t first, std::size_t count, std::size_t lead, std::size_t size) {
    const std::size_t lo = first == 0 ? 0 : first * kPageSize - lead;
    const std::size_t hi = std::min(size, (first + count) * kPageSize - lead);
    return {lo, hi};
}

void walk(HashAlgorithm algorithm, const Source& source, std::size_t lead,
          const std::function<void(std::size_t, const Digest&)>& consume) {
    const std::size_t pages = pages_covered(lead, source.size);
    const unsigned workers = pages >= 64 ? worker_count() : 1;  // small loads: no threads
    std::vector<Hasher> hashers;
    for (unsigned w = 0; w < workers; ++w) hashers.emplace_back(algorithm);
    std::vector<Digest> window(std::min(pages, kWindowPages));
    std::vector<std::vector<std::uint8_t>> buffers(source.file ? workers : 0);

    for (std::size_t first = 0; first < pages; first += kWindowPages) {
        const std::size_t count = std::min(kWindowPages, pages - first);
        const auto [byte_lo, byte_hi] = byte_range(first, count, lead, source.size);
        if (source.mapped) source.mapped->prefetch(source.mapped_at + byte_lo, byte_hi - byte_lo);
        // Worker w hashes a contiguous share of the window's pages, which a
        // streaming worker reads with one call.
        const std::size_t share = (count + workers - 1) / workers;
        auto hash_share = [&](unsigned w) {
            const std::size_t begin = std::min(count, w * share), end = std::min(count, begin + share);
            if (begin == end) return;
            const auto [lo, hi] = byte_range(first + begin, end - begin, lead, source.size);
            ByteSpan chunk = source.memory.empty() ? ByteSpan() : source.memory.subspan(lo, hi - lo);
            if (source.file) {
                buffers[w].resize(hi - lo);
                source.file->read(lo, buffers[w]);
                chunk = ByteSpan(buffers[w]);
            }
            std::array<std::uint8_t, kPageSize> scratch;
            for (std::size_t i = begin; i < end; ++i)
                window[i] = hashers[w].update(page_bytes(chunk, lo, source.size, lead, first + i, scratch)).finish();
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
        if (source.mapped) source.mapped->release(source.mapped_at + byte_lo, byte_hi - byte_lo);
        for (std::size_t i = 0; i < count; ++i) consume(first + i, window[i]);
    }
}

} // namespace

void for_each_page_hash(HashAlgorithm algorithm, ByteSpan data, std::size_t lead, const Payload* payload,
                        const std::function<void(std::size_t, const Digest&)>& consume) {
    Source source;
    source.size = data.size();
    source.memory = data;
    if (payload) {
        source.mapped = payload;
        source.mapped_at = static_cast<std::size_t>(data.data() - payload->bytes().data());
    }
    walk(algorithm, source, lead, consume);
}

void for_each_page_hash(HashAlgorithm algorithm, const Payload& data, std::size_t lead,
                        const std::function<void(std::size_t, const Digest&)>& consume) {
    if (!data.streams()) return for_each_page_hash(algorithm, data.bytes(), lead, &data, consume);
    Source source;
    source.size = data.size();
    source.file = &data;
    walk(algorithm, source, lead, consume);
}

} // namespace cvm
