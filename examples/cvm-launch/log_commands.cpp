#include "log_commands.hpp"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"

namespace cvmlaunch {

void EventLogOutput::add_to(CLI::App& measure) {
    measure.add_option("--event-log", path, "Also write the launch's TCG crypto-agile event log to FILE");
    measure.add_option("--event-log-bank", banks,
                       "Digest bank of the event log, sha256|sha384|sha512 (repeatable; default: the "
                       "measurement's algorithm)");
}

void EventLogOutput::write(const cvm::Backend& backend, const cvm::LaunchPlan& plan) const {
    if (path.empty()) return;
    cvm::eventlog::WriteOptions options;
    options.banks.clear();
    for (const auto& bank : banks) options.banks.push_back(cvm::parse_hash_algorithm(bank));
    if (options.banks.empty()) options.banks.push_back(plan.algorithm());
    options.vendor_info = cvm::eventlog::vendor_info_for(plan.technology());
    auto bytes = cvm::eventlog::write_log(backend.events(plan), options);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw cvm::Error("cannot write the event log", errno, path);
}

void LogCommands::add_to(CLI::App& app) {
    auto* log = app.add_subcommand("log", "Show or verify a TCG crypto-agile event log");
    log->require_subcommand(1);
    show_ = log->add_subcommand("show", "Print every event of a log and the PCR values it replays to");
    show_->add_option("FILE", file_, "The event log")->required();
    show_->add_flag("--json", json_, "Print one JSON object instead of text");
    show_->add_flag("--padded", padded_, "The log fills a fixed buffer: accept an all-zero tail");
    verify_ = log->add_subcommand("verify",
                                  "Replay a log against known-good images and the expected measurement "
                                  "(exit 0 only on a match, 3 on a mismatch)");
    verify_->add_option("FILE", file_, "The event log")->required();
    verify_->add_option("--images", images_, "Known-good images: sha256sum/sha384sum/sha512sum output")->required();
    verify_->add_option("--expect", expect_, "The expected measurement, hex")->required();
    verify_->add_flag("--json", json_, "Print one JSON object instead of text");
    verify_->add_flag("--padded", padded_, "The log fills a fixed buffer: accept an all-zero tail");
}

bool LogCommands::parsed() const { return show_->parsed() || verify_->parsed(); }

int LogCommands::run() const {
    auto payload = cvm::Payload::map_file(file_);
    auto log = cvm::eventlog::read_log(payload.bytes(), file_, {padded_});
    if (show_->parsed()) {
        if (json_) fmt::print("{}\n", cvm::eventlog::to_json(log, file_));
        else fmt::print("{}", cvm::eventlog::to_text(log, file_));
        return 0;
    }
    auto images = cvm::eventlog::ImageList::read(images_);
    auto expected = cvm::from_hex(expect_, "--expect");
    auto result = cvm::eventlog::verify(log, file_, images, expected);
    if (json_) {
        nlohmann::ordered_json j;
        j["technology"] = result.technology;
        j["match"] = result.matches;
        j["replayed"] = result.replayed ? result.replayed->hex() : "";
        j["expected"] = cvm::to_hex(expected);
        j["checked"] = result.checked;
        j["failures"] = result.failures;
        fmt::print("{}\n", j.dump(2));
    } else {
        for (const auto& line : result.checked) fmt::print("ok    {}\n", line);
        for (const auto& line : result.failures) fmt::print("FAIL  {}\n", line);
        fmt::print("{}: {} log replays to {}\n", result.matches ? "MATCH" : "MISMATCH", result.technology,
                   result.replayed ? result.replayed->hex() : "nothing");
    }
    return result.matches ? 0 : kExitMismatch;
}

} // namespace cvmlaunch
