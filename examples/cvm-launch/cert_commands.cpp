#include "cert_commands.hpp"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/sev_cert.hpp"
#include "cvm/spec.hpp"
#include "exit_codes.hpp"
#include "key_files.hpp"
#include "lazy_options.hpp"
#include "value_format.hpp"

namespace cvmlaunch {

void CertCommands::add_to(CLI::App& app) {
    verify_ = app.add_subcommand("verify-pdh-chain",
                                 "AMD SEV guest owner: check the platform's PDH certificate up to the ARK you trust "
                                 "(PDH <- PEK <- CEK <- ASK <- ARK, PEK <- OCA)");
    add_options_when_chosen(*verify_, [this](CLI::App& c) {
        c.add_option("--pdh", pdh, "The platform's PDH certificate (SEV format, 0x824 bytes)")->required();
        c.add_option("--pek", pek, "The platform's PEK certificate (SEV format)")->required();
        c.add_option("--oca", oca, "The platform owner's OCA certificate (SEV format)")->required();
        c.add_option("--cek", cek, "The chip's CEK certificate (SEV format, e.g. from AMD's key server)")->required();
        c.add_option("--ask", ask, "AMD's ASK certificate for the product (AMD signing-key format)")->required();
        c.add_option("--ark", ark, "AMD's ARK certificate for the product, the root you trust")->required();
        c.add_flag("--json", json, "Print one JSON object instead of text");
        c.footer(kExitCodeHelp);
    });

    dh_cert_ = app.add_subcommand("make-dh-cert",
                                  "AMD SEV guest owner: write your Diffie-Hellman certificate (SEV format) for "
                                  "LAUNCH_START from a P-384 key in PEM (run's --owner-dh-cert)");
    add_options_when_chosen(*dh_cert_, [this](CLI::App& c) {
        c.add_option("--key", key_file,
                     "The owner's P-384 private key, PEM (e.g. openssl ecparam -name secp384r1 -genkey); a public "
                     "key with --unsigned")->required();
        c.add_option("--out", out_file, "Write the 0x824-byte certificate here")->required();
        c.add_option("--api", api_version, "API_MAJOR.API_MINOR written in the certificate (default 0.0)");
        c.add_flag("--unsigned", unsigned_cert,
                   "Leave both signature slots unused (virtee/sev's form) instead of self-signing with the key "
                   "(sev-tool's form); the firmware checks neither");
        c.add_flag("--json", json, "Print one JSON object instead of text");
        c.footer(kExitCodeHelp);
    });
}

bool CertCommands::run_if_parsed(int& exit_code) const {
    if (verify_ && verify_->parsed()) { exit_code = verify(); return true; }
    if (dh_cert_ && dh_cert_->parsed()) { exit_code = make_dh_cert(); return true; }
    return false;
}

int CertCommands::verify() const {
    // A file that cannot be read or parsed is an error (exit 1); a chain of
    // well-formed certificates that does not link up is a mismatch (exit 3).
    const auto chain = cvm::sev::read_pdh_chain({pdh, pek, oca, cek, ask, ark});
    const auto result = cvm::sev::verify_pdh_chain(chain);
    const bool trusted = result.trusted();
    const std::string api = fmt::format("{}.{}", chain.pdh.api_major, chain.pdh.api_minor);
    if (json) {
        fmt::print("{}\n", cvm::sev::pdh_chain_report_json(chain, result));
    } else {
        for (const auto& line : result.checked) fmt::print("ok    {}\n", line);
        for (const auto& line : result.failures) fmt::print("FAIL  {}\n", line);
        fmt::print("{}: PDH of API {} ({})\n", trusted ? "TRUSTED" : "UNTRUSTED", api,
                   cvm::sev::to_string(chain.pdh.algo));
    }
    return trusted ? 0 : kExitMismatch;
}

int CertCommands::make_dh_cert() const {
    cvm::sev::OwnerCertOptions options;
    options.self_sign = !unsigned_cert;
    const auto dot = api_version.find('.');
    if (dot == std::string::npos) throw UsageError(fmt::format("--api '{}': expected MAJOR.MINOR", api_version));
    options.api_major = static_cast<std::uint8_t>(cvm::parse_unsigned(api_version.substr(0, dot), "--api", 0, 255));
    options.api_minor = static_cast<std::uint8_t>(cvm::parse_unsigned(api_version.substr(dot + 1), "--api", 0, 255));
    const PrivatePem pem(key_file);
    const auto cert = cvm::sev::make_owner_dh_certificate(pem.text, options);
    write_all(out_file, cert);
    const auto parsed = cvm::sev::parse_sev_certificate(cert, out_file, cvm::sev::CertUsage::pdh);
    if (json) {
        nlohmann::ordered_json j{{"written", out_file}, {"bytes", cert.size()}, {"signed", options.self_sign},
                                 {"qx", cvm::sev::coordinate_hex(parsed.qx)}, {"qy", cvm::sev::coordinate_hex(parsed.qy)}};
        fmt::print("{}\n", j.dump(2));
    } else {
        fmt::print("wrote {} ({} bytes, {}): the owner's DH certificate for LAUNCH_START (--owner-dh-cert)\n",
                   out_file, cert.size(), options.self_sign ? "self-signed" : "unsigned");
    }
    return 0;
}

} // namespace cvmlaunch
