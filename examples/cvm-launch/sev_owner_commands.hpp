// The guest owner's side of an AMD SEV launch on the command line:
//   verify-measurement  checks a LAUNCH_MEASURE blob against the launch
//                       digest predicted for the same spec as `measure`
//   make-secret         wraps a secret for LAUNCH_SECRET
//   make-session        the LAUNCH_START session for a platform's PDH and
//                       new transport keys
//   owner-reply         both in one, as the owner end of a launch's round
//                       trip (cvm-launch run --owner-command): reads the
//                       launch's JSON request, prints the JSON reply
// Keys are read from files (16 raw bytes), never from the command line,
// where other users could see them.
#pragma once

#include <CLI/CLI.hpp>

#include "spec_options.hpp"

namespace cvmlaunch {

class SevOwnerCommands {
public:
    void add_to(CLI::App& app);
    // If one of the subcommands was given, runs it and stores its exit code.
    bool run_if_parsed(int& exit_code) const;

private:
    int verify() const;
    int make_secret() const;
    int owner_reply() const;
    int make_session() const;
    std::vector<std::uint8_t> expected_digest(const SpecOptions& spec, std::uint32_t& policy) const;

    CLI::App* verify_ = nullptr;
    CLI::App* secret_ = nullptr;
    CLI::App* reply_ = nullptr;
    CLI::App* session_ = nullptr;
    SpecOptions spec_, reply_spec_;
    std::string request_file = "-";
    std::string pdh_file, owner_key_file, session_out, tik_out, tek_out, session_policy = "0x1";
    std::string tik_file, tek_file, measurement, launch_digest, secret_file, iv, header_out, secret_out;
    std::string api_version;  // "MAJOR.MINOR"
    unsigned build = 0;
    std::string policy = "0x1";
    unsigned flags = 0;
};

} // namespace cvmlaunch
