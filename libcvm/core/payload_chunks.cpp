#include "libcvm/core/payload_chunks.hpp"

#include <array>
#include <future>
#include <vector>

#include "cvm/error.hpp"

namespace cvm {

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
    // Two buffers: the reader fills one while `use` takes the other. They
    // outlive `ahead`, whose destructor waits for a read still in flight.
    std::array<std::vector<std::uint8_t>, 2> buffers;
    auto read = [&](std::size_t k) {
        auto& buffer = buffers[k % 2];
        buffer.resize(std::min(chunk, size - k * chunk));
        payload.read(k * chunk, buffer);
    };
    const std::size_t chunks = (size + chunk - 1) / chunk;
    if (chunks == 1) {
        read(0);
        use(0, ByteSpan(buffers[0]));
        return;
    }
    std::future<void> ahead = std::async(std::launch::async, read, 0);
    for (std::size_t k = 0; k < chunks; ++k) {
        ahead.get();
        if (k + 1 < chunks) ahead = std::async(std::launch::async, read, k + 1);
        use(k * chunk, ByteSpan(buffers[k % 2]));
    }
}

} // namespace cvm
