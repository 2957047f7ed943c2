#include "value_format.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "exit_codes.hpp"

namespace cvmlaunch {
namespace {

constexpr std::size_t kPaddedSize = 64;  // the RIM claim of a realm token

} // namespace

void ValueFormat::add_to(CLI::App& app) {
    app.add_option("--output-format", encoding, "Print the measurement as hex or base64 (as sev-snp-measure)")
        ->check(CLI::IsMember({"hex", "base64"}));
    auto* pad = app.add_flag("--padded", padded,
                             "arm-cca: print the RIM padded with zeros to 64 bytes, as the realm token's RIM claim "
                             "and cca-realm-measurements carry it");
    app.add_flag("--print-b64", print_b64, "arm-cca: the padded RIM in base64 (cca-realm-measurements' flag)")
        ->excludes(pad);
}

std::string ValueFormat::render(const cvm::Digest& value, std::string_view technology) const {
    std::vector<std::uint8_t> bytes(value.bytes().begin(), value.bytes().end());
    if (pad()) {
        if (technology != "arm-cca")
            throw UsageError(fmt::format("--padded and --print-b64 pad an Arm CCA RIM to the realm token's 64 bytes; "
                                         "the {} measurement has no padded form", technology));
        bytes.resize(kPaddedSize, 0);
    }
    return base64() ? cvm::to_base64(bytes) : cvm::to_hex(bytes);
}

std::vector<std::uint8_t> parse_measurement(std::string_view text, std::string_view option) {
    std::optional<cvm::HashAlgorithm> algorithm;
    if (auto colon = text.find(':'); colon != std::string_view::npos) {
        algorithm = cvm::parse_hash_algorithm(std::string(text.substr(0, colon)));
        text.remove_prefix(colon + 1);
    }
    const bool hex = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    std::vector<std::uint8_t> bytes = hex ? cvm::from_hex(text, option) : cvm::from_base64(text, option);
    if (bytes.size() == kPaddedSize && std::all_of(bytes.begin() + 32, bytes.end(), [](std::uint8_t b) { return b == 0; }))
        bytes.resize(32);
    if (algorithm && bytes.size() != cvm::digest_size(*algorithm))
        throw UsageError(fmt::format("{}: a {} value has {} bytes, this one {}", option, cvm::to_string(*algorithm),
                                     cvm::digest_size(*algorithm), bytes.size()));
    return bytes;
}

} // namespace cvmlaunch
