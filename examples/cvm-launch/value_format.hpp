// How cvm-launch prints and reads a measurement value. Printing: hex or
// base64 (sev-snp-measure's --output-format), as is or padded with zeros to
// the 64 bytes an Arm CCA realm token's RIM claim holds (what
// cca-realm-measurements prints; its --print-b64 is base64 of that). Reading
// (--expect, --measurement): hex or base64, an optional "sha256:"-style
// prefix (what cvm-launch run prints), and a SHA-256 value padded to 64 bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cvm/digest.hpp"

namespace cvmlaunch {

struct ValueFormat {
    std::string encoding = "hex";  // hex | base64
    bool padded = false;
    bool print_b64 = false;

    void add_to(CLI::App& app);
    // The value as the options ask; throws a UsageError for a padding the
    // technology's value does not have.
    std::string render(const cvm::Digest& value, std::string_view technology) const;
    bool base64() const { return print_b64 || encoding == "base64"; }
    bool pad() const { return print_b64 || padded; }
};

// A measurement value given on the command line, as bytes. A 64-byte value
// whose last 32 bytes are zero is read as the SHA-256 value it pads, and an
// "ALG:" prefix must name an algorithm whose digest has the value's length.
std::vector<std::uint8_t> parse_measurement(std::string_view text, std::string_view option);

} // namespace cvmlaunch
