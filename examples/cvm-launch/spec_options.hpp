// The command-line description of a VmSpec, shared by every subcommand.
// Technology options are not listed here: each backend declares its own and
// they become flags of the same name.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cvm/spec.hpp"

namespace cvmlaunch {

struct SpecOptions {
    std::string technology;                               // empty: plain
    std::string mode;                                     // sev-snp-measure's --mode
    std::string vmm_type;                                 // sev-snp-measure's --vmm-type
    std::string kernel, initrd, firmware, dtb, cmdline;
    std::string memory = "256M";
    unsigned vcpus = 1;
    std::vector<std::string> raw_options;                 // --opt KEY=VALUE
    std::map<std::string, std::string> backend_options;   // --<backend option>
    bool json = false;

    // The options appear on `app` once it is the subcommand being parsed
    // (add_options_when_chosen).
    void add_to(CLI::App& app);
    // What the spec's files are read for: a prediction reads each once, as it
    // goes (Payload::open_file); a launch loads the very bytes it predicted,
    // from a sealed copy (Payload::map_file).
    enum class Use { predict, launch };
    // Throws a UsageError for options that contradict each other.
    cvm::VmSpec to_spec(Use use = Use::predict) const;
    // --mode snp:ovmf-hash: the launch digest of the firmware alone.
    bool ovmf_hash_mode() const { return mode == "snp:ovmf-hash"; }

private:
    void populate(CLI::App& app);
};

} // namespace cvmlaunch
