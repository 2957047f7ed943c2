// The AMD SEV certificates on the command line:
//   verify-pdh-chain  checks a platform's PDH up to the ARK the user trusts
//                     before a guest owner makes a session for it
//   make-dh-cert      writes the guest owner's Diffie-Hellman certificate
//                     for LAUNCH_START (run's --owner-dh-cert)
#pragma once

#include <CLI/CLI.hpp>

namespace cvmlaunch {

class CertCommands {
public:
    void add_to(CLI::App& app);
    // If one of the subcommands was given, runs it and stores its exit code.
    bool run_if_parsed(int& exit_code) const;

private:
    int verify() const;
    int make_dh_cert() const;

    CLI::App* verify_ = nullptr;
    CLI::App* dh_cert_ = nullptr;
    std::string pdh, pek, oca, cek, ask, ark;
    std::string key_file, out_file, api_version = "0.0";
    bool unsigned_cert = false, json = false;
};

} // namespace cvmlaunch
