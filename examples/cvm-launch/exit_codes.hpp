// cvm-launch's exit codes, one scheme for every command: 0 success (or a
// match), 1 an error, 2 a usage error, 3 a verify command's mismatch; run
// adds the guest's stop reasons. --help prints kExitCodeHelp.
#pragma once

#include <stdexcept>

namespace cvmlaunch {

inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
// A verify command (log verify, verify-measurement, verify-report,
// verify-pdh-chain) whose evidence is well formed but does not prove the
// expected measurement or chain.
inline constexpr int kExitMismatch = 3;

inline constexpr const char* kExitCodeHelp = R"(Exit codes:
  0   success: the guest powered off (run), the output was written (plan,
      measure, log show, make-secret, make-session, make-dh-cert, snp-id-block),
      or the evidence matches (log verify, verify-measurement, verify-report,
      verify-pdh-chain, owner-reply)
  1   error: bad input file or option, refused KVM call, unsupported configuration,
      a guest owner who refused the launch (run)
  2   usage error on the command line (unknown or conflicting options)
  3   mismatch: the evidence does not prove the expected measurement (log verify,
      verify-measurement, verify-report, owner-reply, which then replies
      "abort"), or a certificate chain does not link up to the ARK given
      (verify-pdh-chain)
  10  the guest asked for a reset (reboot)
  11  the guest triple-faulted
  12  KVM could not run or emulate the guest, or it stopped in an unsupported way
  13  the guest did not stop before --timeout)";

// A command line that parses but asks for something contradictory: exit 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

} // namespace cvmlaunch
