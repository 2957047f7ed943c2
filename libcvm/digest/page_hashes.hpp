// The content hashes of the 4 KiB pages a load covers, computed on every
// core and handed over in page order. Every measured-page model (Arm CCA's
// RMI_DATA_CREATE granules, AMD SNP's PAGE_UPDATE pages) hashes each page on
// its own and then chains the results serially: the first part is
// independent per page and runs in parallel here, the chain stays with the
// caller. A mapped payload is read in windows, each prefetched before and
// released after it is hashed, so the resident footprint stays a few MiB
// whatever the payload's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"

namespace cvm {

inline constexpr std::size_t kPageSize = 4096;

// `data` is placed `lead` bytes (< kPageSize) into its first page; the
// pages' bytes outside it are zero. `consume(page_index, content_hash)` is
// called from the calling thread for page 0, 1, ... in order. `payload`,
// when given, is the storage `data` views: its pages are released after
// use. An exception from `consume` stops the walk and propagates.
void for_each_page_hash(HashAlgorithm algorithm, ByteSpan data, std::size_t lead, const Payload* payload,
                        const std::function<void(std::size_t, const Digest&)>& consume);
// The same over a payload's whole view: one that streams from its file
// (Payload::open_file) is read by the workers themselves, a share of each
// window each, and never copied whole.
void for_each_page_hash(HashAlgorithm algorithm, const Payload& data, std::size_t lead,
                        const std::function<void(std::size_t, const Digest&)>& consume);

// The same, and also the digests of the payload's own bytes (the load
// without its lead and padding) in each algorithm of `stream`, from the same
// read: the calling thread hashes each window as it takes it, so a file is
// read once for its pages' hashes and its whole digest (an event log's
// image digest beside Arm CCA's granules). The digests come back in the
// order asked and are remembered with `data` (cvm::hash finds them).
std::vector<Digest> for_each_page_hash(HashAlgorithm algorithm, const Payload& data, std::size_t lead,
                                       const std::vector<HashAlgorithm>& stream,
                                       const std::function<void(std::size_t, const Digest&)>& consume);

// Pages a load of `size` bytes starting `lead` bytes into a page covers.
constexpr std::size_t pages_covered(std::size_t lead, std::size_t size) {
    return (lead + size + kPageSize - 1) / kPageSize;
}

} // namespace cvm
