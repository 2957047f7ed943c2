// TCG PC Client crypto-agile event logs: the writer that turns a plan's
// events into a log, the strict reader and the PCR replay.
//
// Format and rules: docs/event-log.md. Structures follow the TCG PC Client
// Platform Firmware Profile (TCG_PCClientPCREvent, TCG_EfiSpecIDEvent,
// TCG_PCR_EVENT2); every integer is little-endian and every structure packed.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cvm/backend.hpp"
#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"
#include "cvm/tcg.hpp"

namespace cvm::eventlog {

// The PC Client platform has PCRs 0 to 23.
inline constexpr std::uint32_t kMaxPcrIndex = 23;

// "EV_POST_CODE2", or "0x12345678" for a type outside the tables.
std::string event_type_name(std::uint32_t type);
// "sha256", or "alg 0x1234".
std::string algorithm_name(std::uint16_t tpm_alg);
std::uint16_t tpm_alg(HashAlgorithm algorithm);
// The HashAlgorithm libcvm computes for `tpm_alg`, if any.
std::optional<HashAlgorithm> hash_algorithm(std::uint16_t tpm_alg);

// ---- Writing ----------------------------------------------------------------

struct WriteOptions {
    // The banks, in the order the header declares them; at least one.
    std::vector<HashAlgorithm> banks{HashAlgorithm::sha256};
    // Written into the header's vendorInfo (at most 255 bytes): libcvm writes
    // "libcvm:<technology>" so that a verifier knows the replay rules.
    std::string vendor_info;
};

// The log of `events`: the Spec ID header, then one TCG_PCR_EVENT2 per event.
// Digests follow PlanEvent's rules, one per bank.
std::vector<std::uint8_t> write_log(const std::vector<PlanEvent>& events, const WriteOptions& options);

// The vendorInfo libcvm writes for a technology.
std::string vendor_info_for(std::string_view technology);

// ---- Reading ----------------------------------------------------------------

struct AlgorithmSize {
    std::uint16_t algorithm = 0;
    std::uint16_t digest_size = 0;
};

struct SpecIdEvent {
    std::uint32_t platform_class = 0;
    std::uint8_t spec_version_minor = 0;
    std::uint8_t spec_version_major = 0;
    std::uint8_t spec_errata = 0;
    std::uint8_t uintn_size = 0;
    std::vector<AlgorithmSize> algorithms;
    std::vector<std::uint8_t> vendor_info;
};

struct EventDigest {
    std::uint16_t algorithm = 0;
    std::vector<std::uint8_t> bytes;
};

struct Event {
    std::size_t index = 0;     // 1 for the first event after the header
    std::uint64_t offset = 0;  // of the record in the log
    std::uint32_t pcr_index = 0;
    std::uint32_t type = 0;
    std::vector<EventDigest> digests;
    std::vector<std::uint8_t> data;
    std::uint64_t data_offset = 0;

    // The digest of `algorithm`, or nullptr.
    const EventDigest* digest(std::uint16_t algorithm) const;
};

// Which writer's conventions a log follows, decided from its header.
enum class Dialect {
    tcg,           // the PC Client rules (libcvm's own logs among them)
    qemu_cca_rfc,  // QEMU's Arm CCA RFC v3 log: specErrata 106, no vendorInfo
};

struct Log {
    SpecIdEvent spec_id;
    Dialect dialect = Dialect::tcg;
    std::vector<Event> events;
    std::uint64_t used_size = 0;  // bytes up to the end of the last event
};

// Which deviations from the PC Client rules the reader accepts.
struct ReadOptions {
    // The log sits at the start of a fixed-size buffer: an all-zero tail
    // after the last event is the unused space, not events.
    bool padded = false;
};

// A log whose header says specErrata 106 and has no vendorInfo is read as the
// QEMU Arm CCA RFC writes it (Dialect::qemu_cca_rfc): an EV_NO_ACTION digest
// may carry algorithm id 0 (then it must be zero, sized like the one bank), or
// the bank's hash of the event data instead of zeros. Nothing else is relaxed.
inline constexpr std::uint8_t kQemuCcaRfcErrata = 106;

// Parses `bytes` strictly (docs/event-log.md, "Reader rules"); every
// violation throws cvm::Error naming `name`, the offset and the expectation.
Log read_log(ByteSpan bytes, const std::string& name, const ReadOptions& options = {});

// ---- Replay -----------------------------------------------------------------

// PCR values per bank after replaying every event but EV_NO_ACTION, with the
// StartupLocality event's initial PCR 0. Banks libcvm cannot compute are
// absent; PCRs no event touched are absent.
struct PcrValues {
    std::map<std::uint16_t, std::map<std::uint32_t, std::vector<std::uint8_t>>> banks;
};
PcrValues replay(const Log& log, const std::string& name);

// One line per event plus the header, for people.
std::string to_text(const Log& log, const std::string& name);
// {"spec_id":{...},"events":[...],"pcrs":{...}}
std::string to_json(const Log& log, const std::string& name);

// ---- Verification -----------------------------------------------------------

// A verifier's known-good images, read from sha256sum / sha384sum /
// sha512sum output ("HEX  PATH" or "HEX *PATH" per line). A listed file that
// is readable is hashed and must match its line; a bzImage also contributes
// the digest of its protected-mode part, which is what the plain launch loads.
struct KnownImage {
    HashAlgorithm algorithm = HashAlgorithm::sha256;
    std::vector<std::uint8_t> digest;
    std::string what;  // "<path>" or "protected-mode part of <path>"
    // The readable file whose whole contents have `digest`; empty when the
    // entry is part of a file or the listed file is not on this machine.
    // Replay rules that hash contents (CCA granules, SEV pages) read it.
    std::string path;
};
class ImageList {
public:
    static ImageList read(const std::string& path);
    // The image with `digest` under `algorithm`. A listed file that is
    // readable here (and so checked against the list) is also found by its
    // digest under another algorithm, computed once when first asked: an
    // SNP log's SHA-256 operation digests match a sha384sum list.
    const KnownImage* find(HashAlgorithm algorithm, ByteSpan digest) const;
    const std::vector<KnownImage>& images() const noexcept { return images_; }

private:
    std::vector<KnownImage> images_;
    // Digests of the readable listed files under the other algorithms.
    mutable std::deque<KnownImage> derived_;
    mutable std::set<std::pair<std::size_t, HashAlgorithm>> derived_done_;
};

struct Verification {
    std::string technology;
    // Further registers the replay computed (e.g. riscv-cove pcr3, tci).
    std::vector<std::pair<std::string, Digest>> registers;
    std::vector<std::string> checked;   // one line per event: what was established
    std::vector<std::string> failures;  // each names the event that disagreed
    // Event fields that only the replayed measurement checks (no digest
    // covers them, e.g. where a CCA image is loaded): a mismatch names them.
    std::vector<std::string> unbound;
    std::optional<Digest> replayed;     // the measurement the log replays to
    bool matches = false;               // no failure and replayed == expected
};

// Replays `log` with the rules of the technology its vendorInfo names, checks
// every event's claims (digests against event data, loaded images against
// `images`) and compares the replayed measurement with `expected`. A log
// libcvm has no rules for is an error (fail closed).
Verification verify(const Log& log, const std::string& name, const ImageList& images, ByteSpan expected);
// The verdict as one JSON object: technology, match, replayed, expected,
// registers, checked and failures (what `cvm-launch log verify --json`
// prints, and the C ABI's and Python's verify return).
std::string to_json(const Verification& result, ByteSpan expected);

// ---- Replay rules of the confidential technologies ---------------------------

// A technology's rules for replaying its logs to its measurement. Backends
// provide them (Backend::log_replayer); all_log_replayers() collects them
// from the one backend table (the core names none).
class LogReplayer {
public:
    virtual ~LogReplayer() = default;
    virtual std::string_view technology() const = 0;
    // True for the logs these rules replay: libcvm's "libcvm:<technology>",
    // and for arm-cca also QEMU RFC logs.
    virtual bool recognizes(const Log& log) const = 0;
    // Checks every event and sets out.replayed; failures name the event.
    virtual void verify(const Log& log, const std::string& name, const ImageList& images,
                        Verification& out) const = 0;
    // The event decoded for people, if these rules know its data.
    virtual std::optional<std::string> describe(const Event&, const std::string&) const { return std::nullopt; }
};
std::span<const LogReplayer* const> all_log_replayers();

// "event 3 (offset 0x5c)": how every failure names its event.
std::string event_label(const Event& event);

// For technologies whose log is libcvm's operation log (the plain encoding,
// docs/event-log.md): checks every event as the plain rules do, except that
// the digests need not chain to a measurement, and rebuilds the launch plan
// the events describe. Loaded data comes from the log's content, from a
// readable file in `images` with the recorded SHA-256, or is all zeros when
// the recorded SHA-256 is that of zeros. Returns nothing if an event failed.
std::optional<LaunchPlan> rebuild_plan(const Log& log, const std::string& name, const ImageList& images,
                                       const std::string& technology, HashAlgorithm algorithm, Verification& out);

} // namespace cvm::eventlog
