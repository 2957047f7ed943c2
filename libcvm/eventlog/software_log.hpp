// The event-log form of the software measurement (the plain backend's
// measurement, libcvm/plan/software_measurement.hpp): one EV_EVENT_TAG event
// in PCR 0 per operation, whose digest is the hash of the operation's
// encoding, so that replaying PCR 0's SHA-256 bank gives the measurement.
//
// Event data: TCG_PCClientTaggedEvent{kOperationTag, encoding}, followed, for
// measured data that libcvm generated (boot tables, command line), by
// TCG_PCClientTaggedEvent{kContentTag, the loaded bytes} (up to kMaxContent),
// so that a verifier can check and inspect them. docs/event-log.md specifies both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/plan.hpp"

namespace cvm::eventlog {

inline constexpr std::uint32_t kOperationTag = 0x6f6d7663;  // "cvmo" in the log's byte order
inline constexpr std::uint32_t kContentTag = 0x636d7663;    // "cvmc"
// Generated data up to this size travels in the log; larger data (and data
// mapped from a file) must be known to the verifier by its digest.
inline constexpr std::size_t kMaxContent = 64 * 1024;

std::vector<std::uint8_t> software_event_data(ByteSpan encoding, std::optional<ByteSpan> content);

// The parts of one software event's data, as views into it.
struct SoftwareEventData {
    ByteSpan encoding;
    std::uint64_t encoding_offset = 0;  // in the log
    std::optional<ByteSpan> content;
    std::uint64_t content_offset = 0;
};
// Splits event data that starts at `offset` in the log `name`; throws a
// located cvm::Error on any other layout.
SoftwareEventData split_software_event_data(ByteSpan data, const std::string& name, std::uint64_t offset);

// One decoded operation encoding (docs/plain-measurement.md).
struct SoftwareOperation {
    std::string name;         // "load-data", ...
    std::string text;         // its fields, for people
    // load-data only:
    std::uint64_t gpa = 0;
    std::uint64_t size = 0;
    bool measured = false;
    std::optional<std::vector<std::uint8_t>> data_sha256;
    std::string page_type;
    // create-vm only: the configuration's fields exactly as recorded, which
    // the plan's backend decodes (Backend::decode_config).
    std::vector<ConfigField> config;
    // Any other operation but load-data, with its recorded values.
    std::optional<Operation> operation;
};
// Decodes `encoding` strictly (every byte accounted for).
SoftwareOperation decode_software_operation(ByteSpan encoding, const std::string& name, std::uint64_t offset);

} // namespace cvm::eventlog
