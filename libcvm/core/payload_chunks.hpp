// A payload walked front to back in chunks, for the hashes that are one
// serial stream (a file's SHA-256, Salus's page chain): however the payload
// is held, only about two chunks are resident at a time.
#pragma once

#include <cstddef>
#include <functional>

#include "cvm/bytes.hpp"

namespace cvm {

// Calls `use(offset, bytes)` for [0, chunk), [chunk, 2 chunk), ... of
// `payload`, in order, from the calling thread. A payload that streams from
// its file (Payload::open_file) is read one chunk ahead on a second thread,
// so the copy out of the page cache overlaps the hash instead of adding to
// it; a mapped one is prefetched before and released after each chunk.
// `chunk` must be non-zero. An exception from `use` or a read stops the walk
// and propagates.
void for_each_chunk(const Payload& payload, std::size_t chunk,
                    const std::function<void(std::size_t, ByteSpan)>& use);

} // namespace cvm
