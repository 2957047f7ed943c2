// The strict reader: the Linux kernel's __calc_tpm2_event_size rules and
// the PC Client header rules (docs/event-log.md, "Reader rules").
#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::eventlog {
namespace {

constexpr std::size_t kHeaderFixed = 4 + 4 + 20 + 4;          // pcrIndex, eventType, SHA-1 digest, eventDataSize
constexpr std::size_t kSpecIdFixed = 16 + 4 + 1 + 1 + 1 + 1 + 4;  // up to numberOfAlgorithms
constexpr std::size_t kEventFixed = 4 + 4 + 4;                 // pcrIndex, eventType, digests.count

// The digest size the TCG registry fixes for an algorithm, or 0 if libcvm
// does not know it (then the header's size is taken as declared).
std::uint16_t registered_size(std::uint16_t alg) {
    switch (alg) {
    case TPM_ALG_SHA1: return 20;
    case TPM_ALG_SHA256: return 32;
    case TPM_ALG_SHA384: return 48;
    case TPM_ALG_SHA512: return 64;
    case TPM_ALG_SM3_256: return 32;
    default: return 0;
    }
}

bool all_zero(ByteSpan bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

class Reader {
public:
    Reader(ByteSpan bytes, const std::string& name) : bytes_(bytes), name_(name) {}

    std::size_t pos() const { return pos_; }
    std::size_t left() const { return bytes_.size() - pos_; }

    void need(std::size_t n, const std::string& what) const {
        if (left() < n)
            throw_format_error(name_, pos_, what, fmt::format("{} bytes", n),
                               left() == 0 ? "the end of the log" : fmt::format("only {} before the end of the log", left()));
    }
    ByteSpan take(std::size_t n, const std::string& what) {
        need(n, what);
        ByteSpan out = bytes_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    std::uint8_t u8(const std::string& what) { return take(1, what)[0]; }
    std::uint16_t u16(const std::string& what) { return le::read<std::uint16_t>(take(2, what), 0); }
    std::uint32_t u32(const std::string& what) { return le::read<std::uint32_t>(take(4, what), 0); }

private:
    ByteSpan bytes_;
    const std::string& name_;
    std::size_t pos_ = 0;
};

SpecIdEvent read_header(Reader& r, const std::string& name) {
    if (r.left() == 0) throw Error("the event log is empty: expected the Spec ID header event", 0, name, 0);
    r.need(kHeaderFixed, "Spec ID header event (TCG_PCClientPCREvent)");
    std::uint32_t pcr = r.u32("header pcrIndex");
    if (pcr != 0) throw_format_error(name, 0, "header pcrIndex", "0", std::to_string(pcr));
    std::uint32_t type = r.u32("header eventType");
    if (type != EV_NO_ACTION)
        throw_format_error(name, 4, "header eventType", "EV_NO_ACTION (3)", event_type_name(type));
    if (!all_zero(r.take(20, "header digest")))
        throw_format_error(name, 8, "header SHA-1 digest", "20 zero bytes", "a non-zero byte");
    std::uint64_t size_offset = r.pos();
    std::uint32_t data_size = r.u32("header eventDataSize");
    if (data_size > r.left())
        throw_format_error(name, size_offset, "header eventDataSize", fmt::format("at most {} (the bytes left)", r.left()),
                           std::to_string(data_size));
    if (data_size < kSpecIdFixed + 4 + 1)
        throw_format_error(name, size_offset, "header eventDataSize",
                           fmt::format("at least {} (a Spec ID event with one algorithm)", kSpecIdFixed + 4 + 1),
                           std::to_string(data_size));
    std::size_t start = r.pos();

    ByteSpan signature = r.take(16, "Spec ID signature");
    static const char kSignature[16] = "Spec ID Event03";
    if (std::memcmp(signature.data(), kSignature, 16) != 0) {
        std::string found;
        for (auto c : signature) found += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
        throw_format_error(name, start, "Spec ID signature", "\"Spec ID Event03\" and a NUL", fmt::format("\"{}\"", found));
    }
    SpecIdEvent spec;
    std::uint64_t at = r.pos();
    spec.platform_class = r.u32("platformClass");
    if (spec.platform_class > 1)
        throw_format_error(name, at, "platformClass", "0 (client) or 1 (server)", std::to_string(spec.platform_class));
    at = r.pos();
    spec.spec_version_minor = r.u8("specVersionMinor");
    spec.spec_version_major = r.u8("specVersionMajor");
    if (spec.spec_version_major != 2 || spec.spec_version_minor != 0)
        throw_format_error(name, at, "spec version", "2.0",
                           fmt::format("{}.{}", spec.spec_version_major, spec.spec_version_minor));
    spec.spec_errata = r.u8("specErrata");
    at = r.pos();
    spec.uintn_size = r.u8("uintnSize");
    if (spec.uintn_size != 1 && spec.uintn_size != 2)
        throw_format_error(name, at, "uintnSize", "1 (UINT32) or 2 (UINT64)", std::to_string(spec.uintn_size));
    at = r.pos();
    std::uint32_t count = r.u32("numberOfAlgorithms");
    std::size_t room = (data_size - kSpecIdFixed - 1) / 4;
    if (count == 0 || count > room)
        throw_format_error(name, at, "numberOfAlgorithms",
                           fmt::format("1 to {} (what eventDataSize {} holds)", room, data_size), std::to_string(count));
    for (std::uint32_t i = 0; i < count; ++i) {
        at = r.pos();
        AlgorithmSize a;
        a.algorithm = r.u16("algorithmId");
        a.digest_size = r.u16("digestSize");
        for (const auto& seen : spec.algorithms)
            if (seen.algorithm == a.algorithm)
                throw_format_error(name, at, "algorithmId", "each algorithm declared once",
                                   fmt::format("{} a second time", algorithm_name(a.algorithm)));
        std::uint16_t registered = registered_size(a.algorithm);
        if (a.digest_size == 0 || (registered && a.digest_size != registered))
            throw_format_error(name, at + 2, fmt::format("digestSize of {}", algorithm_name(a.algorithm)),
                               registered ? std::to_string(registered) : "a non-zero size", std::to_string(a.digest_size));
        spec.algorithms.push_back(a);
    }
    at = r.pos();
    std::uint8_t vendor_size = r.u8("vendorInfoSize");
    std::size_t expected = kSpecIdFixed + 4 * std::size_t{count} + 1 + vendor_size;
    if (expected != data_size)
        throw_format_error(name, at, "vendorInfoSize",
                           fmt::format("{} (what is left of eventDataSize {})", data_size - (at + 1 - start), data_size),
                           fmt::format("{} (a Spec ID event of {} bytes)", vendor_size, expected));
    ByteSpan vendor = r.take(vendor_size, "vendorInfo");
    spec.vendor_info.assign(vendor.begin(), vendor.end());
    return spec;
}

Event read_event(Reader& r, const SpecIdEvent& spec, bool rfc, std::size_t index, const std::string& name) {
    std::optional<std::pair<std::uint64_t, std::uint16_t>> hashed_no_action;  // (offset, algorithm)
    Event e;
    e.index = index;
    e.offset = r.pos();
    std::string label = fmt::format("event {}", index);
    r.need(kEventFixed, fmt::format("{} header (pcrIndex, eventType, digests.count)", label));
    e.pcr_index = r.u32("pcrIndex");
    if (e.pcr_index > kMaxPcrIndex)
        throw_format_error(name, e.offset, fmt::format("{} pcrIndex", label), fmt::format("0 to {}", kMaxPcrIndex),
                           std::to_string(e.pcr_index));
    e.type = r.u32("eventType");
    std::uint64_t at = r.pos();
    std::uint32_t count = r.u32("digests.count");
    if (count > spec.algorithms.size())
        throw_format_error(name, at, fmt::format("{} digests.count", label),
                           fmt::format("at most {} (numberOfAlgorithms)", spec.algorithms.size()), std::to_string(count));
    for (std::uint32_t i = 0; i < count; ++i) {
        at = r.pos();
        std::uint16_t alg = r.u16(fmt::format("{} digest {} hashAlg", label, i));
        auto declared = std::find_if(spec.algorithms.begin(), spec.algorithms.end(),
                                     [&](const AlgorithmSize& a) { return a.algorithm == alg; });
        // The RFC's data-less EV_NO_ACTION: algorithm id 0, sized like its one bank.
        if (rfc && alg == 0 && e.type == EV_NO_ACTION) declared = spec.algorithms.begin();
        else if (declared == spec.algorithms.end()) {
            std::vector<std::string> names;
            for (const auto& a : spec.algorithms) names.push_back(algorithm_name(a.algorithm));
            throw_format_error(name, at, fmt::format("{} digest {} hashAlg", label, i),
                               fmt::format("an algorithm the Spec ID header declares ({})", fmt::join(names, ", ")),
                               algorithm_name(alg));
        }
        if (e.digest(alg))
            throw_format_error(name, at, fmt::format("{} digest {} hashAlg", label, i), "one digest per algorithm",
                               fmt::format("a second {} digest", algorithm_name(alg)));
        ByteSpan digest = r.take(declared->digest_size,
                                 fmt::format("{} {} digest", label, algorithm_name(alg)));
        if (e.type == EV_NO_ACTION && !all_zero(digest)) {
            // The RFC hashes an EV_NO_ACTION's data like any event's; checked
            // once the data is read.
            if (!rfc || alg == 0)
                throw_format_error(name, at + 2, fmt::format("{} {} digest", label, algorithm_name(alg)),
                                   "zero bytes (EV_NO_ACTION is never extended)", "a non-zero byte");
            hashed_no_action = {at + 2, alg};
        }
        e.digests.push_back({alg, {digest.begin(), digest.end()}});
    }
    at = r.pos();
    std::uint32_t size = r.u32(fmt::format("{} eventSize", label));
    if (size > r.left())
        throw_format_error(name, at, fmt::format("{} eventSize", label),
                           fmt::format("at most {} (the bytes left in the log)", r.left()), std::to_string(size));
    if (e.type == EV_PREBOOT_CERT && count == 0 && size == 0)
        throw_format_error(name, e.offset, fmt::format("{}", label), "an event (a zero record is the end of the log)",
                           "a zero record with non-zero bytes after it");
    e.data_offset = r.pos();
    ByteSpan data = r.take(size, "event data");
    e.data.assign(data.begin(), data.end());
    if (hashed_no_action) {
        const EventDigest* d = e.digest(hashed_no_action->second);
        auto algorithm = hash_algorithm(hashed_no_action->second);
        if (!algorithm || to_hex(hash(*algorithm, data).bytes()) != to_hex(d->bytes))
            throw_format_error(name, hashed_no_action->first,
                               fmt::format("{} {} digest", label, algorithm_name(hashed_no_action->second)),
                               "zero bytes or, in a QEMU RFC log, the hash of the event data", "another value");
    }
    return e;
}

} // namespace

const EventDigest* Event::digest(std::uint16_t algorithm) const {
    for (const auto& d : digests)
        if (d.algorithm == algorithm) return &d;
    return nullptr;
}

Log read_log(ByteSpan bytes, const std::string& name, const ReadOptions& options) {
    Reader r(bytes, name);
    Log log;
    log.spec_id = read_header(r, name);
    if (log.spec_id.spec_errata == kQemuCcaRfcErrata && log.spec_id.vendor_info.empty() &&
        log.spec_id.algorithms.size() == 1)
        log.dialect = Dialect::qemu_cca_rfc;
    const bool rfc = log.dialect == Dialect::qemu_cca_rfc;
    // Where the zero tail starts, found once so the loop stays linear.
    std::size_t tail = bytes.size();
    while (tail > 0 && bytes[tail - 1] == 0) --tail;
    while (r.left() > 0) {
        if (r.pos() >= tail) {
            if (options.padded) break;
            throw_format_error(name, r.pos(), "after the last event",
                               "the end of the log (a buffer's zero tail is accepted only when the log is read as padded)",
                               fmt::format("{} zero bytes", r.left()));
        }
        if (r.left() < kEventFixed)
            throw_format_error(name, r.pos(), fmt::format("event {} header", log.events.size() + 1),
                               fmt::format("{} bytes", kEventFixed), fmt::format("{} trailing bytes", r.left()));
        log.events.push_back(read_event(r, log.spec_id, rfc, log.events.size() + 1, name));
    }
    log.used_size = r.pos();
    return log;
}

} // namespace cvm::eventlog
