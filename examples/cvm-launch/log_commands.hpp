// The event-log side of cvm-launch: `measure --event-log FILE` writes the
// launch's TCG log beside the prediction; `log show` prints a log; `log verify`
// replays one against known-good images and an expected measurement.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cvm/backend.hpp"
#include "exit_codes.hpp"

namespace cvmlaunch {

struct EventLogOutput {
    std::string path;                 // empty: no log
    std::vector<std::string> banks;   // empty: the plan's algorithm
    std::string data_dir;             // empty: generated data is not written out

    void add_to(CLI::App& measure);
    bool wanted() const { return !path.empty(); }
    // Writes the log of `plan`, whose events are `events`, if a path was given.
    void write(const cvm::LaunchPlan& plan, const std::vector<cvm::PlanEvent>& events) const;

    // Writes `bytes` to `file`, replacing it; throws naming the file.
    static void write_file(const std::string& file, cvm::ByteSpan bytes);
};

class LogCommands {
public:
    void add_to(CLI::App& app);
    bool parsed() const;
    int run() const;

private:
    CLI::App* show_ = nullptr;
    CLI::App* verify_ = nullptr;
    std::string file_, images_, expect_;
    std::vector<std::string> expect_registers_;
    bool json_ = false;
    bool padded_ = false;
};

} // namespace cvmlaunch
