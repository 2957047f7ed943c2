// Plan events -> TCG crypto-agile log (docs/event-log.md, "Format").
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"

namespace cvm::eventlog {
namespace {

class Out {
public:
    void u8(std::uint8_t v) { bytes.push_back(v); }
    void u16(std::uint16_t v) { for (int i = 0; i < 2; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
    void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
    void raw(ByteSpan b) { bytes.insert(bytes.end(), b.begin(), b.end()); }
    void zeros(std::size_t n) { bytes.insert(bytes.end(), n, 0); }
    std::vector<std::uint8_t> bytes;
};

constexpr char kSignature[16] = "Spec ID Event03";  // with its NUL: 16 bytes

std::uint32_t size32(std::size_t size, const std::string& what) {
    if (size > UINT32_MAX) throw Error(fmt::format("{} has {} bytes, more than an event log can record", what, size));
    return static_cast<std::uint32_t>(size);
}

} // namespace

std::vector<std::uint8_t> write_log(const std::vector<PlanEvent>& events, const WriteOptions& options) {
    const auto& banks = options.banks;
    if (banks.empty()) throw Error("an event log needs at least one digest bank");
    for (std::size_t i = 0; i < banks.size(); ++i)
        if (std::count(banks.begin(), banks.end(), banks[i]) > 1)
            throw Error(fmt::format("event log bank {} is listed twice", to_string(banks[i])));
    if (options.vendor_info.size() > 255)
        throw Error(fmt::format("event log vendor info has {} bytes, at most 255 fit", options.vendor_info.size()));

    Out out;
    // TCG_PCClientPCREvent carrying TCG_EfiSpecIDEvent.
    out.u32(0);             // pcrIndex
    out.u32(EV_NO_ACTION);  // eventType
    out.zeros(20);          // SHA-1 sized digest, zero
    out.u32(static_cast<std::uint32_t>(16 + 4 + 4 + 4 + 4 * banks.size() + 1 + options.vendor_info.size()));
    out.raw(ByteSpan(reinterpret_cast<const std::uint8_t*>(kSignature), 16));
    out.u32(0);  // platformClass: client
    out.u8(0);   // specVersionMinor
    out.u8(2);   // specVersionMajor
    out.u8(0);   // specErrata
    out.u8(2);   // uintnSize: UINT64
    out.u32(static_cast<std::uint32_t>(banks.size()));
    for (HashAlgorithm bank : banks) {
        out.u16(tpm_alg(bank));
        out.u16(static_cast<std::uint16_t>(digest_size(bank)));
    }
    out.u8(static_cast<std::uint8_t>(options.vendor_info.size()));
    out.raw(ByteSpan(reinterpret_cast<const std::uint8_t*>(options.vendor_info.data()), options.vendor_info.size()));

    for (const PlanEvent& event : events) {
        if (event.pcr_index > kMaxPcrIndex)
            throw Error(fmt::format("event \"{}\" names PCR {}, a PC Client log has PCRs 0 to {}", event.description,
                                    event.pcr_index, kMaxPcrIndex));
        if (event.measured && event.event_type == EV_NO_ACTION)
            throw Error(fmt::format("event \"{}\" is EV_NO_ACTION, which is never measured, yet carries measured bytes",
                                    event.description));
        // A record with nothing in it is what a backend leaves when its
        // events() hook does not describe the event for the log yet.
        if (event.event_type == EV_PREBOOT_CERT && event.event_data.empty() && !event.measured)
            throw Error(fmt::format("event \"{}\" has no TCG record (type, data, measured bytes): this "
                                    "technology's events are not mapped to the event log", event.description));
        out.u32(event.pcr_index);
        out.u32(event.event_type);
        if (event.measured) {
            out.u32(static_cast<std::uint32_t>(banks.size()));
            const auto digests = hash(banks, *event.measured);  // every bank from one pass over the bytes
            for (std::size_t i = 0; i < banks.size(); ++i) {
                out.u16(tpm_alg(banks[i]));
                out.raw(digests[i].bytes());
            }
        } else if (event.event_type == EV_NO_ACTION) {
            out.u32(static_cast<std::uint32_t>(banks.size()));
            for (HashAlgorithm bank : banks) {
                out.u16(tpm_alg(bank));
                out.zeros(digest_size(bank));
            }
        } else {
            out.u32(0);  // informational: nothing was extended
        }
        out.u32(size32(event.event_data.size(), fmt::format("the data of event \"{}\"", event.description)));
        out.raw(event.event_data);
    }
    return std::move(out.bytes);
}

} // namespace cvm::eventlog
