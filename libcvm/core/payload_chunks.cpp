#include "libcvm/core/payload_chunks.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <limits>
#include <thread>
#include <vector>

#include "cvm/error.hpp"

namespace cvm {
namespace {

// A file is read in pieces that stay in a core's cache between the copy out
// of the page cache and the hash that reads them.
constexpr std::size_t kPiece = 256u << 10;
// Files up to this size are read on the calling thread: a second thread
// costs more to start than it would save.
constexpr std::size_t kReadAheadFrom = 4u << 20;
constexpr std::size_t kRing = 4;  // pieces in flight
constexpr std::size_t kStop = std::numeric_limits<std::size_t>::max();

void wait_for(const std::atomic<std::size_t>& counter, std::size_t target) {
    for (std::size_t seen = counter.load(std::memory_order_acquire); seen < target && seen != kStop;
         seen = counter.load(std::memory_order_acquire))
        counter.wait(seen, std::memory_order_acquire);
}

// One reader thread fills a ring of pieces ahead of the caller, which hands
// each to `use` in order and gives its buffer back.
void read_ahead(const Payload& payload, std::size_t piece, const std::function<void(std::size_t, ByteSpan)>& use) {
    const std::size_t size = payload.size(), pieces = (size + piece - 1) / piece;
    std::array<std::vector<std::uint8_t>, kRing> ring;
    std::atomic<std::size_t> filled{0}, used{0};
    std::exception_ptr read_error;
    auto length = [&](std::size_t k) { return std::min(piece, size - k * piece); };
    std::thread reader([&] {
        try {
            for (std::size_t k = 0; k < pieces; ++k) {
                wait_for(used, k < kRing ? 0 : k - kRing + 1);  // its slot is free once piece k - kRing is used
                if (used.load(std::memory_order_acquire) == kStop) return;
                auto& buffer = ring[k % kRing];
                buffer.resize(length(k));
                payload.read(k * piece, buffer);
                filled.store(k + 1, std::memory_order_release);
                filled.notify_one();
            }
        } catch (...) {
            read_error = std::current_exception();
            filled.store(kStop, std::memory_order_release);
            filled.notify_one();
        }
    });
    auto stop_reader = [&] {
        used.store(kStop, std::memory_order_release);  // a reader waiting for a slot gives up
        used.notify_one();
        if (reader.joinable()) reader.join();
    };
    // Joined on every way out, an exception from `use` included.
    struct Join {
        const std::function<void()> stop;
        ~Join() { stop(); }
    } join{stop_reader};
    for (std::size_t k = 0; k < pieces; ++k) {
        wait_for(filled, k + 1);
        if (filled.load(std::memory_order_acquire) == kStop) break;
        use(k * piece, ByteSpan(ring[k % kRing]));
        used.store(k + 1, std::memory_order_release);
        used.notify_one();
    }
    stop_reader();
    if (read_error) std::rethrow_exception(read_error);
}

} // namespace

void for_each_chunk(const Payload& payload, std::size_t chunk,
                    const std::function<void(std::size_t, ByteSpan)>& use) {
    if (chunk == 0) throw Error("for_each_chunk: a zero chunk size");
    const std::size_t size = payload.size();
    if (!payload.streams()) {
        const ByteSpan bytes = payload.bytes();
        for (std::size_t at = 0; at < size; at += chunk) {
            const std::size_t n = std::min(chunk, size - at);
            payload.prefetch(at, n);
            use(at, bytes.subspan(at, n));
            payload.release(at, n);
        }
        return;
    }
    const std::size_t piece = std::min(chunk, kPiece);
    if (size >= kReadAheadFrom) return read_ahead(payload, piece, use);
    std::vector<std::uint8_t> buffer;
    for (std::size_t at = 0; at < size; at += piece) {
        buffer.resize(std::min(piece, size - at));
        payload.read(at, buffer);
        use(at, ByteSpan(buffer));
    }
}

} // namespace cvm
