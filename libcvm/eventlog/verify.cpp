// Replaying a log against a verifier's images and expected measurement.
//
// The technology's rules come from the log's vendorInfo. Each rule set checks
// every claim an event makes that the measurement depends on, so that a
// changed byte anywhere in the log or in a loaded image names its event.
#include <algorithm>
#include <array>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"
#include "libcvm/eventlog/software_log.hpp"

namespace cvm::eventlog {
namespace {

// A bank libcvm cannot recompute cannot be verified: refuse the whole log.
void refuse_unknown_banks(const Log& log, const std::string& name) {
    for (const auto& bank : log.spec_id.algorithms)
        if (!hash_algorithm(bank.algorithm))
            throw Error(fmt::format("the log declares bank {}, which libcvm cannot check; refusing to verify a bank "
                                    "it cannot recompute", algorithm_name(bank.algorithm)), 0, name);
}

// An operation-log event that passed the checks every such event must pass.
struct CheckedOperation {
    SoftwareEventData parts;
    SoftwareOperation op;
    std::string what;  // the operation as the messages name it
};

// The checks shared by the plain log and the operation logs of the other
// technologies: nothing after finalize, only EV_EVENT_TAG events in PCR 0,
// one digest per bank, a well-formed operation, and digests that hash its
// encoding. Each problem goes to `fail`; nothing is returned then.
template <typename Fail>
std::optional<CheckedOperation> check_operation_event(const Log& log, const Event& e, const std::string& name,
                                                      bool finalized, Fail&& fail) {
    if (finalized) {
        fail("follows finalize: nothing may change the VM after its state is sealed");
        return std::nullopt;
    }
    if (e.pcr_index != 0 || e.type != EV_EVENT_TAG) {
        fail(fmt::format("PCR {} {}: an operation log has only EV_EVENT_TAG events in PCR 0", e.pcr_index,
                         event_type_name(e.type)));
        return std::nullopt;
    }
    if (e.digests.size() != log.spec_id.algorithms.size()) {
        fail(fmt::format("{} digests for {} banks: every bank must hash the operation", e.digests.size(),
                         log.spec_id.algorithms.size()));
        return std::nullopt;
    }
    CheckedOperation checked;
    try {
        checked.parts = split_software_event_data(e.data, name, e.data_offset);
        checked.op = decode_software_operation(checked.parts.encoding, name, checked.parts.encoding_offset);
    } catch (const Error& error) {
        fail(error.what());
        return std::nullopt;
    }
    const SoftwareOperation& op = checked.op;
    checked.what = op.text.empty() ? op.name : fmt::format("{} {}", op.name, op.text);
    bool ok = true;
    for (const auto& d : e.digests) {
        Digest expected = hash(*hash_algorithm(d.algorithm), checked.parts.encoding);
        if (!std::equal(d.bytes.begin(), d.bytes.end(), expected.bytes().begin(), expected.bytes().end())) {
            fail(fmt::format("{}: the {} digest {} is not the hash of the operation, {}", checked.what,
                             algorithm_name(d.algorithm), to_hex(d.bytes), expected.hex()));
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return checked;
}

// The plain backend's software measurement: every event is an EV_EVENT_TAG in
// PCR 0 whose digests hash the operation encoding; PCR 0's SHA-256 bank is
// the measurement.
void verify_software(const Log& log, const std::string& name, const ImageList& images, Verification& out) {
    refuse_unknown_banks(log, name);
    if (!log.spec_id.algorithms.empty() &&
        std::none_of(log.spec_id.algorithms.begin(), log.spec_id.algorithms.end(),
                     [](const AlgorithmSize& a) { return a.algorithm == TPM_ALG_SHA256; }))
        throw Error("a plain log needs the sha256 bank: the software measurement is a SHA-256 chain", 0, name);

    bool finalized = false;
    for (const Event& e : log.events) {
        std::string label = event_label(e);
        auto fail = [&](std::string problem) { out.failures.push_back(fmt::format("{}: {}", label, problem)); };
        auto checked = check_operation_event(log, e, name, finalized, fail);
        if (!checked) continue;
        const SoftwareEventData& parts = checked->parts;
        const SoftwareOperation& op = checked->op;
        const std::string& what = checked->what;
        std::string verdict = "recorded";
        if (op.name == "load-data" || op.name == "device-file") {
            if (parts.content) {
                Digest content = hash(HashAlgorithm::sha256, *parts.content);
                if (!op.data_sha256 || parts.content->size() != op.size ||
                    to_hex(content.bytes()) != to_hex(*op.data_sha256)) {
                    fail(fmt::format("{}: the {} bytes of content in the log are not the measured data (sha256 {})",
                                     what, parts.content->size(), content.hex()));
                    continue;
                }
                verdict = "content in the log matches";
            } else if (op.data_sha256) {
                const KnownImage* image = images.find(HashAlgorithm::sha256, *op.data_sha256);
                if (!image) {
                    fail(fmt::format("{}: the loaded data's sha256 {} is not in the images list", what,
                                     to_hex(*op.data_sha256)));
                    continue;
                }
                verdict = "matches " + image->what;
            } else {
                verdict = "unmeasured";
            }
        } else if (op.name == "create-vm") {
            // The plain launcher could not have run a configuration its
            // backend does not read.
            try {
                find_backend("plain").decode_config(op.config);
            } catch (const Error& error) {
                fail(fmt::format("{}: {}", what, error.message()));
                continue;
            }
        }
        if (op.name == "finalize") finalized = true;
        out.checked.push_back(fmt::format("{}: {}: {}", label, what, verdict));
    }
    if (!finalized) out.failures.push_back("the log ends without a finalize event: it does not describe a whole launch");
    auto pcrs = replay(log, name);
    auto bank = pcrs.banks.find(TPM_ALG_SHA256);
    if (bank != pcrs.banks.end() && bank->second.count(0))
        out.replayed = Digest(HashAlgorithm::sha256, bank->second.at(0));
}

// Zero-filled data (SNP's zero, secrets and CPUID sections) is recognised
// by its digest up to this size, in total over the whole log: a log cannot
// make the verifier hash or allocate more on its word (one forged load of
// 16 MiB is a budget; a thousand are not a thousand budgets).
constexpr std::uint64_t kMaxZeroData = 16ull << 20;

// The most vCPUs any libcvm planner accepts (plain, arm-cca, SEV: 255). A
// predictor sizes per-vCPU state from the count, so a log's count is refused
// above it before a plan is rebuilt (a forged 2 KB log once asked for 171 GB).
constexpr std::uint32_t kMaxLogVcpus = 255;

// The SHA-256 of `size` zero bytes, computed without holding them.
std::vector<std::uint8_t> zeros_sha256(std::uint64_t size) {
    static const std::array<std::uint8_t, 4096> zeros{};
    Hasher h(HashAlgorithm::sha256);
    for (std::uint64_t left = size; left > 0;) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, zeros.size()));
        h.update(ByteSpan(zeros.data(), n));
        left -= n;
    }
    Digest d = h.finish();
    return {d.bytes().begin(), d.bytes().end()};
}

} // namespace

std::string event_label(const Event& e) { return fmt::format("event {} (offset {:#x})", e.index, e.offset); }

std::optional<LaunchPlan> rebuild_plan(const Log& log, const std::string& name, const ImageList& images,
                                       const std::string& technology, HashAlgorithm algorithm, Verification& out) {
    refuse_unknown_banks(log, name);
    LaunchPlan plan(technology, algorithm);
    bool finalized = false;
    std::size_t failures = out.failures.size();
    // A device file that fails its check is reported, but the plan is still
    // rebuilt (no device file is part of it): the replay then names what
    // else disagrees, such as the hashes table that measures the same kernel.
    std::size_t file_failures = 0;
    bool device_file = false;
    std::uint64_t zero_budget = kMaxZeroData;
    auto zero_data = [&zero_budget](std::uint64_t size, const std::vector<std::uint8_t>& digest) {
        if (size > zero_budget) return false;
        zero_budget -= size;  // charged whether or not it matches: the hashing is done either way
        return digest == zeros_sha256(size);
    };
    for (const Event& e : log.events) {
        std::string label = event_label(e);
        device_file = false;
        auto fail = [&](std::string problem) {
            out.failures.push_back(fmt::format("{}: {}", label, problem));
            if (device_file) ++file_failures;
        };
        auto checked = check_operation_event(log, e, name, finalized, fail);
        if (!checked) continue;
        const SoftwareEventData& parts = checked->parts;
        const SoftwareOperation& op = checked->op;
        const std::string& what = checked->what;
        std::string verdict = "recorded";
        if (op.name == "load-data" || op.name == "device-file") {
            device_file = op.name == "device-file";
            op::LoadData load{op.gpa, Payload(), op.measured, label, op.page_type};
            if (parts.content) {
                Digest content = hash(HashAlgorithm::sha256, *parts.content);
                if (!op.data_sha256 || parts.content->size() != op.size ||
                    to_hex(content.bytes()) != to_hex(*op.data_sha256)) {
                    fail(fmt::format("{}: the {} bytes of content in the log are not the measured data (sha256 {})",
                                     what, parts.content->size(), content.hex()));
                    continue;
                }
                load.data = Payload::from_bytes({parts.content->begin(), parts.content->end()}, load.label);
                verdict = "content in the log matches";
            } else if (!op.data_sha256) {
                fail(fmt::format("{}: unmeasured data, whose bytes the log cannot give", what));
                continue;
            } else if (const KnownImage* image = images.find(HashAlgorithm::sha256, *op.data_sha256)) {
                if (image->path.empty()) {
                    fail(fmt::format("{}: the data is {}, but the replay needs that file's bytes and the list's "
                                     "file is not readable here", what, image->what));
                    continue;
                }
                load.data = Payload::map_file(image->path);
                if (load.data.size() != op.size) {
                    fail(fmt::format("{}: {} has {} bytes, the event loads {}", what, image->path, load.data.size(),
                                     op.size));
                    continue;
                }
                verdict = "matches " + image->what;
            } else if (zero_data(op.size, *op.data_sha256)) {
                load.data = Payload::from_bytes(std::vector<std::uint8_t>(op.size, 0), "zero pages");
                verdict = "zero pages";
            } else {
                fail(fmt::format("{}: the loaded data's sha256 {} is not in the images list", what,
                                 to_hex(*op.data_sha256)));
                continue;
            }
            if (op.name == "load-data") plan.add(std::move(load));
        } else if (op.name == "create-vm") {
            try {
                plan.add(op::CreateVm{find_backend(technology).decode_config(op.config)});
            } catch (const Error& error) {
                fail(fmt::format("{}: {}", what, error.message()));
                continue;
            }
        } else if (op.operation) {
            if (auto* create = std::get_if<op::CreateVcpus>(&*op.operation); create && create->count > kMaxLogVcpus) {
                fail(fmt::format("{}: {} vCPUs, more than the {} any libcvm launch creates", what, create->count,
                                 kMaxLogVcpus));
                continue;
            }
            plan.add(*op.operation);
        }
        if (op.name == "finalize") finalized = true;
        out.checked.push_back(fmt::format("{}: {}: {}", label, what, verdict));
    }
    if (!finalized) out.failures.push_back("the log ends without a finalize event: it does not describe a whole launch");
    if (out.failures.size() - file_failures != failures) return std::nullopt;
    return plan;
}

namespace {

// A log's bytes shown to a person: printable ASCII as itself, anything else
// (escape sequences a hostile log could send to the terminal) as \xNN.
std::string escaped(ByteSpan bytes) {
    std::string out;
    for (auto c : bytes) {
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') out += static_cast<char>(c);
        else out += fmt::format("\\x{:02x}", c);
    }
    return out;
}

} // namespace

Verification verify(const Log& log, const std::string& name, const ImageList& images, ByteSpan expected) {
    Verification out;
    std::string vendor(log.spec_id.vendor_info.begin(), log.spec_id.vendor_info.end());
    if (vendor == vendor_info_for("plain")) {
        out.technology = "plain";
        verify_software(log, name, images, out);
    } else {
        const LogReplayer* rules = nullptr;
        for (const LogReplayer* r : all_log_replayers())
            if (r->recognizes(log)) rules = r;
        if (!rules)
            throw Error(fmt::format("no replay rules for a log whose vendorInfo is \"{}\": libcvm verifies logs it "
                                    "wrote (\"libcvm:<technology>\") and QEMU Arm CCA RFC logs",
                                    escaped(log.spec_id.vendor_info)), 0, name);
        out.technology = std::string(rules->technology());
        rules->verify(log, name, images, out);
    }
    if (!out.replayed) {
        out.failures.push_back("the log replays to no measurement");
    } else if (!std::equal(expected.begin(), expected.end(), out.replayed->bytes().begin(), out.replayed->bytes().end())) {
        std::string unbound;
        if (!out.unbound.empty() && out.failures.empty())
            unbound = fmt::format("; every digest and image matched, so the difference lies in what only the "
                                  "measurement checks: {}", fmt::join(out.unbound, ", "));
        out.failures.push_back(fmt::format("the log replays to {} {}, not the expected {}{}",
                                           to_string(out.replayed->algorithm()), out.replayed->hex(), to_hex(expected),
                                           unbound));
    }
    out.matches = out.failures.empty();
    return out;
}

std::string to_json(const Verification& result, ByteSpan expected) {
    nlohmann::ordered_json j;
    j["technology"] = result.technology;
    j["match"] = result.matches;
    j["replayed"] = result.replayed ? result.replayed->hex() : "";
    j["expected"] = to_hex(expected);
    nlohmann::ordered_json registers = nlohmann::ordered_json::object();
    for (const auto& [reg, value] : result.registers) registers[reg] = value.hex();
    j["registers"] = registers;
    j["checked"] = result.checked;
    j["failures"] = result.failures;
    return j.dump(2);
}

} // namespace cvm::eventlog
