// A launch's guest-owner round trip (RunOptions::owner) carried over file
// descriptors, for an owner in another process: a VMM's socket to its
// attestation service, a pipe to a command (cvm-launch run --owner-command),
// an inherited fd (--owner-fd).
//
// The protocol is one line each way: the launch writes its JSON request and
// a newline, the owner answers with one JSON line. Messages are
// technology-defined (cvm/sev_owner.hpp for SEV).
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace cvm {

using OwnerRoundTrip = std::function<std::string(const std::string&)>;

// Writes the request to `to_owner`, reads the reply from `from_owner` (the
// same fd for a socket). The wait polls, so `interrupted` (checked every 50
// ms) cancels it and a non-zero `timeout` ends it, both as errors; so do the
// channel closing before a whole line and a reply over 1 MiB. The fds stay
// the caller's.
OwnerRoundTrip owner_over_fds(int from_owner, int to_owner, std::chrono::milliseconds timeout = {},
                              std::function<bool()> interrupted = {});

// The round trip through a command run with /bin/sh -c (cvm-launch run
// --owner-command): the request line is its stdin, the first line of its
// stdout the reply; its stderr is the caller's. A command that ends without
// a reply fails the launch, naming how it ended.
OwnerRoundTrip owner_over_command(std::string command, std::chrono::milliseconds timeout = {});

} // namespace cvm
