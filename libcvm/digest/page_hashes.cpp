#include "libcvm/digest/page_hashes.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "libcvm/digest/payload_digests.hpp"

namespace cvm {
namespace {

// Pages per window: 8 MiB in flight, enough for every core to have long
// runs of work between the serial hand-overs.
constexpr std::size_t kWindowPages = 2048;
constexpr std::size_t kMinWindowPages = 128;
// Pages a streaming worker reads per call: 128 KiB, well inside a core's L2.
constexpr std::size_t kBatchPages = 32;

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

// Where a window's bytes are kept for the stream digests (a file's, read by
// the workers into one buffer per slot): `base` holds the window's data
// bytes from `lo` on. Without stream digests, or for bytes in memory,
// nothing is kept.
struct Keep {
    std::uint8_t* base = nullptr;
    std::size_t lo = 0;
};

// One window's share of pages hashed by one worker into `out` (the
// window's slot): a streaming worker reads its share a batch at a time; a
// mapped share is prefetched before and released after (unless the caller
// still reads it for stream digests).
class ShareHasher {
public:
    ShareHasher(HashAlgorithm algorithm, const Source& source, std::size_t lead, bool release)
        : hasher_(algorithm), source_(source), lead_(lead), release_(release) {}

    void hash(std::size_t first, std::size_t begin, std::size_t end, std::vector<Digest>& out, Keep keep = {}) {
        if (begin >= end) return;
        const auto [lo, hi] = byte_range(first + begin, end - begin, lead_, source_.size);
        if (source_.mapped) source_.mapped->prefetch(source_.mapped_at + lo, hi - lo);
        // A file is read a batch at a time into a buffer that stays in the
        // core's cache, so the hash reads what the copy has just written
        // there rather than fetching it back from memory.
        for (std::size_t batch = begin; batch < end; batch += kBatchPages) {
            const std::size_t batch_end = std::min(end, batch + kBatchPages);
            const auto [batch_lo, batch_hi] = byte_range(first + batch, batch_end - batch, lead_, source_.size);
            ByteSpan chunk;
            if (source_.file) {
                std::span<std::uint8_t> into;
                if (keep.base) {
                    into = std::span<std::uint8_t>(keep.base + (batch_lo - keep.lo), batch_hi - batch_lo);
                } else {
                    buffer_.resize(batch_hi - batch_lo);
                    into = buffer_;
                }
                source_.file->read(batch_lo, into);
                chunk = into;
            } else {
                chunk = source_.memory.subspan(batch_lo, batch_hi - batch_lo);
            }
            for (std::size_t i = batch; i < batch_end; ++i)
                out[i] = hasher_.update(page_bytes(chunk, batch_lo, source_.size, lead_, first + i, scratch_)).finish();
        }
        if (source_.mapped && release_) source_.mapped->release(source_.mapped_at + lo, hi - lo);
    }

private:
    Hasher hasher_;
    const Source& source_;
    std::size_t lead_;
    bool release_;
    std::vector<std::uint8_t> buffer_;
    std::array<std::uint8_t, kPageSize> scratch_;
};

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

// Waits until `counter` reaches `target` (or is kNone: the walk stops).
void wait_for(const std::atomic<std::size_t>& counter, std::size_t target) {
    for (std::size_t seen = counter.load(std::memory_order_acquire); seen < target && seen != kNone;
         seen = counter.load(std::memory_order_acquire))
        counter.wait(seen, std::memory_order_acquire);
}

// The pipeline: every worker hashes its share of window k into slot k % 2
// while the calling thread chains window k - 1 from the other slot, so the
// serial chain overlaps the parallel content hashes instead of leaving the
// cores idle between windows.
//
// `stream`, when given, also gets the load's own bytes in order, from
// the calling thread as it takes each window: a file's window is kept in
// its slot's buffer by the workers that read it, so it is read only once.
void walk(HashAlgorithm algorithm, const Source& source, std::size_t lead,
          const std::function<void(std::size_t, const Digest&)>& consume, PayloadDigests* stream) {
    const std::size_t pages = pages_covered(lead, source.size);
    // A load of a few MiB (a firmware) still gets a few windows, so that its
    // chain overlaps the hashing too.
    const std::size_t window = std::clamp<std::size_t>(pages / 4, kMinWindowPages, kWindowPages);
    const std::size_t windows = (pages + window - 1) / window;
    const std::size_t window_size = std::min(pages, window);
    std::array<std::vector<Digest>, 2> slots{std::vector<Digest>(window_size),
                                             windows > 1 ? std::vector<Digest>(window_size) : std::vector<Digest>()};
    auto window_pages = [&](std::size_t k) { return std::min(window, pages - k * window); };
    auto window_bytes = [&](std::size_t k) { return byte_range(k * window, window_pages(k), lead, source.size); };
    const bool keep_file = stream && source.file;
    const bool release_in_workers = !stream;
    // Filled by the workers' reads before anyone looks: not zeroed first.
    std::array<std::unique_ptr<std::uint8_t[]>, 2> kept;
    if (keep_file)  // a window holds at most `window` pages of data (the first one less by the lead)
        for (std::size_t slot = 0; slot < std::min<std::size_t>(windows, 2); ++slot)
            kept[slot] = std::make_unique_for_overwrite<std::uint8_t[]>(std::min(source.size, window * kPageSize));
    auto keep_for = [&](std::size_t k) {
        return keep_file ? Keep{kept[k % 2].get(), window_bytes(k).first} : Keep{};
    };
    auto consume_window = [&](std::size_t k) {
        if (stream) {
            const auto [lo, hi] = window_bytes(k);
            stream->update(keep_file ? ByteSpan(kept[k % 2].get(), hi - lo) : source.memory.subspan(lo, hi - lo));
            if (source.mapped) source.mapped->release(source.mapped_at + lo, hi - lo);
        }
        for (std::size_t i = 0, n = window_pages(k); i < n; ++i) consume(k * window + i, slots[k % 2][i]);
    };

    if (pages < 64) {  // small loads: no threads
        ShareHasher hasher(algorithm, source, lead, release_in_workers);
        for (std::size_t k = 0; k < windows; ++k) {
            hasher.hash(k * window, 0, window_pages(k), slots[k % 2], keep_for(k));
            consume_window(k);
        }
        return;
    }

    const unsigned workers = worker_count();
    std::vector<std::atomic<std::size_t>> finished(workers);  // windows each worker has hashed
    std::atomic<std::size_t> consumed{0};                     // windows the chain has taken
    std::vector<std::exception_ptr> errors(workers);
    auto stop = [&] {
        consumed.store(kNone, std::memory_order_release);
        consumed.notify_all();
    };
    auto work = [&](unsigned w) {
        try {
            ShareHasher hasher(algorithm, source, lead, release_in_workers);
            for (std::size_t k = 0; k < windows; ++k) {
                wait_for(consumed, k < 2 ? 0 : k - 1);  // slot k % 2 is free once window k - 2 is chained
                if (consumed.load(std::memory_order_acquire) == kNone) return;
                const std::size_t count = window_pages(k), share = (count + workers - 1) / workers;
                const std::size_t begin = std::min(count, w * share);
                hasher.hash(k * window, begin, std::min(count, begin + share), slots[k % 2], keep_for(k));
                finished[w].store(k + 1, std::memory_order_release);
                finished[w].notify_one();
            }
        } catch (...) {
            errors[w] = std::current_exception();
            finished[w].store(kNone, std::memory_order_release);
            finished[w].notify_one();
        }
    };

    std::vector<std::thread> threads;
    // Joined on every way out: a failing chain or worker stops the others first.
    struct Joiner {
        std::vector<std::thread>& threads;
        std::function<void()> stop;
        ~Joiner() {
            stop();
            for (auto& t : threads) t.join();
        }
    } joiner{threads, stop};
    for (unsigned w = 0; w < workers; ++w) threads.emplace_back(work, w);

    for (std::size_t k = 0; k < windows; ++k) {
        bool failed = false;
        for (auto& f : finished) {
            wait_for(f, k + 1);
            failed = failed || f.load(std::memory_order_acquire) == kNone;
        }
        if (failed) break;
        consume_window(k);
        consumed.store(k + 1, std::memory_order_release);
        consumed.notify_all();
    }
    stop();
    for (auto& t : threads) t.join();
    threads.clear();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
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
    walk(algorithm, source, lead, consume, nullptr);
}

void for_each_page_hash(HashAlgorithm algorithm, const Payload& data, std::size_t lead,
                        const std::function<void(std::size_t, const Digest&)>& consume) {
    for_each_page_hash(algorithm, data, lead, {}, consume);
}

std::vector<Digest> for_each_page_hash(HashAlgorithm algorithm, const Payload& data, std::size_t lead,
                                       const std::vector<HashAlgorithm>& stream,
                                       const std::function<void(std::size_t, const Digest&)>& consume) {
    // Digests the payload already remembers are not computed again.
    PayloadDigests digests(data, stream);
    Source source;
    source.size = data.size();
    if (data.streams()) {
        source.file = &data;
    } else {
        source.memory = data.bytes();
        source.mapped = &data;
    }
    walk(algorithm, source, lead, consume, digests.pending() ? &digests : nullptr);
    return digests.finish();
}

} // namespace cvm
