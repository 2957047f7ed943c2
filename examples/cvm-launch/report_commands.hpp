// `verify-report`: an SEV-SNP attestation report checked as a verifier
// checks it: the VCEK chain up to the ARK the user trusts, the report's
// signature, then the measurement (given, or predicted from the same spec
// as `measure`) and optionally HOST_DATA, REPORT_DATA and the ID block's
// ID_KEY_DIGEST and AUTHOR_KEY_DIGEST against the public keys.
#pragma once

#include <CLI/CLI.hpp>

#include "spec_options.hpp"

namespace cvmlaunch {

class ReportCommands {
public:
    void add_to(CLI::App& app);
    // If the subcommand was given, runs it and stores its exit code.
    bool run_if_parsed(int& exit_code) const;

private:
    int verify() const;

    CLI::App* verify_ = nullptr;
    SpecOptions spec_;
    std::string report_file, vcek, ask, ark, expect, report_data, id_key_pub, author_key_pub;
};

} // namespace cvmlaunch
