// TCG PC Client crypto-agile event logs: the writer that turns a plan's
// events into a log, the strict reader and the PCR replay.
//
// Format and rules: docs/event-log.md. Structures follow the TCG PC Client
// Platform Firmware Profile (TCG_PCClientPCREvent, TCG_EfiSpecIDEvent,
// TCG_PCR_EVENT2); every integer is little-endian and every structure packed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
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

struct Log {
    SpecIdEvent spec_id;
    std::vector<Event> events;
    std::uint64_t used_size = 0;  // bytes up to the end of the last event
};

// Which deviations from the PC Client rules the reader accepts.
struct ReadOptions {
    // The log sits at the start of a fixed-size buffer: an all-zero tail
    // after the last event is the unused space, not events.
    bool padded = false;
};

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
};
class ImageList {
public:
    static ImageList read(const std::string& path);
    const KnownImage* find(HashAlgorithm algorithm, ByteSpan digest) const;
    const std::vector<KnownImage>& images() const noexcept { return images_; }

private:
    std::vector<KnownImage> images_;
};

struct Verification {
    std::string technology;
    std::vector<std::string> checked;   // one line per event: what was established
    std::vector<std::string> failures;  // each names the event that disagreed
    std::optional<Digest> replayed;     // the measurement the log replays to
    bool matches = false;               // no failure and replayed == expected
};

// Replays `log` with the rules of the technology its vendorInfo names, checks
// every event's claims (digests against event data, loaded images against
// `images`) and compares the replayed measurement with `expected`. A log
// libcvm has no rules for is an error (fail closed).
Verification verify(const Log& log, const std::string& name, const ImageList& images, ByteSpan expected);

} // namespace cvm::eventlog
