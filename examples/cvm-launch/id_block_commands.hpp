// `snp-id-block`: the guest owner's (or verifier's) side of an SNP ID block.
// It signs the ID block for a launch -- the digest predicted from the same
// spec as `measure`, or one given -- with the ID key (and the ID key with
// the author key), writes the two files `run --id-block --id-auth` gives to
// SNP_LAUNCH_FINISH, and prints the key digests every report of that guest
// will carry (what `verify-report --id-key-pub` checks).
#pragma once

#include <CLI/CLI.hpp>

#include "spec_options.hpp"

namespace cvmlaunch {

class IdBlockCommands {
public:
    void add_to(CLI::App& app);
    // If the subcommand was given, runs it and stores its exit code.
    bool run_if_parsed(int& exit_code) const;

private:
    int make() const;

    CLI::App* make_ = nullptr;
    SpecOptions spec_;
    std::string id_key, author_key, family_id, image_id, launch_digest, block_out, auth_out;
    std::uint32_t guest_svn = 0;
};

} // namespace cvmlaunch
