// The backend interface and the registry of backends.
//
// A backend owns one technology: its layout rules (spec -> plan), its
// launcher (plan -> KVM), its measurement model (plan -> prediction) and its
// mapping of the plan to measurement events. The core names no backend; they
// are listed in one table (backends/table.cpp), which is also where the
// event-log replay rules are found (Backend::log_replayer).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cvm/measurement.hpp"
#include "cvm/plan.hpp"
#include "cvm/spec.hpp"

namespace cvm {

class KvmSeam;
namespace eventlog {
class LogReplayer;
}

// What an option's value is. A number goes through the one number codec
// (cvm/spec.hpp parse_unsigned); front ends check it before planning (the
// CLI makes a malformed number a usage error).
enum class OptionKind { text, number };

// A technology option a backend accepts in VmSpec::options.
struct OptionInfo {
    std::string name;                  // e.g. "hash"
    std::string help;
    std::string default_value;         // empty: no default
    std::vector<std::string> choices;  // empty: free-form
    OptionKind kind = OptionKind::text;
};

// How a launched guest ended. The numeric values are cvm-launch's exit codes.
enum class ExitReason : int {
    power_off = 0,          // the guest powered off (ACPI S5)
    reset = 10,             // the guest asked for a reset (keyboard controller, ACPI)
    triple_fault = 11,      // KVM_EXIT_SHUTDOWN
    emulation_failure = 12, // KVM could not run or emulate the guest
    timeout = 13,           // the guest did not stop in time
    interrupted = 14,       // the caller stopped the run (RunOptions::interrupted)
};
std::string_view to_string(ExitReason reason);

struct RunOptions {
    int console_fd = 1;                              // guest UART output goes here
    std::chrono::milliseconds timeout{0};            // 0: no limit
    std::string device = "/dev/kvm";
    KvmSeam* seam = nullptr;                         // nullptr: the real system calls
    // Polled on the launching thread every few milliseconds while the guest
    // runs; returning true stops every vCPU and ends the run as
    // ExitReason::interrupted (Python's KeyboardInterrupt, a C caller's
    // cvm_launch_interrupt from another thread or a signal handler).
    std::function<bool()> interrupted;
    // The guest owner's round trip inside a launch, for a technology whose
    // launch protocol has one (AMD SEV and SEV-ES, between LAUNCH_MEASURE and
    // LAUNCH_FINISH; cvm/sev_owner.hpp has its messages): called once with a
    // JSON request, it returns the owner's JSON reply (cvm/owner_channel.hpp
    // carries them over file descriptors). Set for any other technology, the
    // launch is refused before anything is created.
    std::function<std::string(const std::string&)> owner;
};

// Refuses `options.owner` for a launcher whose technology has no owner round trip.
void refuse_owner_round_trip(const RunOptions& options, std::string_view technology);

struct RunResult {
    ExitReason reason = ExitReason::power_off;
    std::string detail;
};

// One step of a plan, as the TCG event log records it (docs/event-log.md).
// The log writer gives the event one digest per bank of the log: the bank's
// hash of `measured` when it is set; all-zero digests for EV_NO_ACTION; and
// an empty digest list for an informational event without `measured`.
struct PlanEvent {
    std::string kind;         // e.g. "load-data"
    std::string description;  // human-readable
    Digest digest;            // the value the measurement extends with
    std::uint32_t pcr_index = 0;
    std::uint32_t event_type = 0;         // TCG event type (EV_*)
    std::vector<std::uint8_t> event_data; // the record's event bytes
    std::optional<Payload> measured;      // the bytes each bank's digest is taken over
};

// A plan's measurement and its event log's events, from one walk where the
// backend can (each payload hashed once).
struct Prediction {
    Measurement measurement;
    std::vector<PlanEvent> events;
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string_view name() const = 0;
    virtual std::string_view summary() const = 0;
    virtual std::vector<OptionInfo> options() const { return {}; }

    // Layout rules: spec -> plan. Throws on what the backend cannot do.
    virtual LaunchPlan build_plan(const VmSpec& spec) const = 0;
    // Measurement model: plan -> expected measurement. Fails closed.
    virtual Measurement predict(const LaunchPlan& plan) const = 0;
    // The plan's measured steps, in order, for the event log.
    virtual std::vector<PlanEvent> events(const LaunchPlan& plan) const = 0;
    // Both at once; a backend whose model hashes payloads overrides it to
    // walk the plan once.
    virtual Prediction predict_with_events(const LaunchPlan& plan) const { return {predict(plan), events(plan)}; }
    // Launcher: plan -> KVM, runs the guest until it stops.
    virtual RunResult launch(const LaunchPlan& plan, const RunOptions& options) const = 0;
    // The rule by which a running guest extends one of its runtime
    // registers (Arm CCA: a REM; RISC-V CoVE: a runtime PCR): the register's
    // new value from its old one and the value the guest passed. Verifiers
    // replay a guest's runtime events with it. The default throws: the
    // technology has no guest-extendable launch registers.
    virtual Digest runtime_extend(const Digest& old_value, ByteSpan value) const;
    // The rules for replaying this technology's launch logs (cvm/eventlog.hpp),
    // or none where the log is the plain software measurement's.
    virtual const eventlog::LogReplayer* log_replayer() const { return nullptr; }
    // The typed configuration whose fields() are `fields`, for a plan of
    // this backend rebuilt from its text form (an operation log). Throws a
    // cvm::Error for any list this backend's planner could not have written.
    virtual std::shared_ptr<const VmConfig> decode_config(std::span<const ConfigField> fields) const = 0;
};

// Every compiled-in backend.
std::span<const Backend* const> all_backends();
// The backend called `name`; throws listing the known names otherwise.
const Backend& find_backend(std::string_view name);

// Checks `spec.options` against `backend.options()`: unknown keys and values
// outside `choices` are errors. Returns the options with defaults filled in.
std::map<std::string, std::string> resolve_options(const Backend& backend, const VmSpec& spec);

} // namespace cvm
