// A payload walked front to back in pieces, for the hashes that are one
// serial stream (a file's SHA-256, Salus's page chain): however the payload
// is held, only a few pieces are resident at a time.
#pragma once

#include <cstddef>
#include <functional>

#include "cvm/bytes.hpp"

namespace cvm {

// Calls `use(offset, bytes)` over the whole of `payload`, in order, from
// the calling thread, in pieces of at most `chunk` bytes whose offsets are
// multiples of the piece size (itself a divisor of `chunk` when `chunk` is
// a multiple of 4 KiB). A payload that streams from its file
// (Payload::open_file) is read in pieces of at most 256 KiB, which stay in
// the core's cache for the hash; from 4 MiB on, a second thread reads them
// a few pieces ahead, so the copy out of the page cache overlaps the hash
// instead of adding to it. A mapped payload is prefetched before and
// released after each chunk. `chunk` must be non-zero. An exception from
// `use` or a read stops the walk and propagates.
void for_each_chunk(const Payload& payload, std::size_t chunk,
                    const std::function<void(std::size_t, ByteSpan)>& use);

} // namespace cvm
