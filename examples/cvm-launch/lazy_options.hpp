// Options built only for the subcommand a command line names.
//
// cvm-launch has a dozen subcommands and about 150 options, and a command
// line uses one subcommand. CLI11 allocates every option's names, help and
// validators and checks it against each option of its subcommand added
// before it: building them all took a fifth of a short command's
// instructions (callgrind, --version). So a subcommand's options are added
// when the parser reaches the subcommand, before it reads that subcommand's
// arguments (CLI11's pre-parse callback); its --help, its errors and its
// parsing see the same options as before.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace cvmlaunch {

// Calls `add_options(sub)` once `sub` is being parsed, after the functions
// registered for `sub` earlier. Owns sub's pre-parse callback.
void add_options_when_chosen(CLI::App& sub, std::function<void(CLI::App&)> add_options);

} // namespace cvmlaunch
