#include "id_block_commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/backend.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/snp_id_block.hpp"
#include "cvm/spec.hpp"
#include "exit_codes.hpp"
#include "key_files.hpp"
#include "lazy_options.hpp"
#include "value_format.hpp"

namespace cvmlaunch {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> fixed_hex(const std::string& hex, const char* option) {
    std::array<std::uint8_t, N> out{};
    if (hex.empty()) return out;
    const auto bytes = cvm::from_hex(hex, option);
    if (bytes.size() != N)
        throw UsageError(fmt::format("{} has {} bytes: expected {} ({} hex digits)", option, bytes.size(), N, 2 * N));
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

} // namespace

void IdBlockCommands::add_to(CLI::App& app) {
    make_ = app.add_subcommand("snp-id-block",
                               "AMD SEV-SNP guest owner: sign an ID block for a launch (the digest predicted for the "
                               "spec, or --launch-digest) and write it with its ID auth for run --id-block --id-auth");
    spec_.add_to(*make_);
    add_options_when_chosen(*make_, [this](CLI::App& c) {
        c.add_option("--id-key", id_key, "The ID key: a P-384 private key in PEM (chmod 600)")->required();
        c.add_option("--author-key", author_key,
                     "The author key, P-384 private key in PEM, which signs the ID key (sets AUTHOR_KEY_EN)");
        c.add_option("--family-id", family_id, "FAMILY_ID: 16 bytes (32 hex digits; default zeros)");
        c.add_option("--image-id", image_id, "IMAGE_ID: 16 bytes (32 hex digits; default zeros)");
        c.add_option("--guest-svn", guest_svn, "GUEST_SVN (u32, default 0)");
        c.add_option("--launch-digest", launch_digest,
                     "The launch digest (48 bytes, hex or base64) instead of predicting it from --tech amd-sev-snp "
                     "--firmware ...; the policy is then --policy (default 0x30000)");
        c.add_option("--id-block-out", block_out, "Where to write the 96-byte ID block")->required();
        c.add_option("--id-auth-out", auth_out, "Where to write the 4096-byte ID authentication structure")->required();
        c.footer(kExitCodeHelp);
    });
}

bool IdBlockCommands::run_if_parsed(int& exit_code) const {
    if (!make_ || !make_->parsed()) return false;
    exit_code = make();
    return true;
}

int IdBlockCommands::make() const {
    cvm::sev::SnpIdBlock block;
    std::string policy_text = "0x30000";  // the SNP backend's default policy
    if (auto it = spec_.backend_options.find("policy"); it != spec_.backend_options.end() && !it->second.empty())
        policy_text = it->second;
    std::vector<std::uint8_t> digest;
    if (!launch_digest.empty()) {
        digest = parse_measurement(launch_digest, "--launch-digest");
    } else {
        auto spec = spec_.to_spec();
        if (spec.technology != "amd-sev-snp")
            throw UsageError("snp-id-block predicts amd-sev-snp launches: give --tech amd-sev-snp (or --mode snp) and "
                             "the launch's files, or --launch-digest");
        // An ID block given to this spec would be checked against itself.
        spec.options.erase("id-block");
        spec.options.erase("id-auth");
        const auto& backend = cvm::find_backend(spec.technology);
        const auto predicted = backend.predict(backend.build_plan(spec));
        digest.assign(predicted.value.bytes().begin(), predicted.value.bytes().end());
        policy_text = cvm::resolve_options(backend, spec).at("policy");
    }
    if (digest.size() != block.launch_digest.size())
        throw UsageError(fmt::format("--launch-digest has {} bytes: an SNP launch digest has 48", digest.size()));
    std::copy(digest.begin(), digest.end(), block.launch_digest.begin());
    block.policy = cvm::parse_unsigned(policy_text, "--policy");
    block.family_id = fixed_hex<16>(family_id, "--family-id");
    block.image_id = fixed_hex<16>(image_id, "--image-id");
    block.guest_svn = guest_svn;

    const PrivatePem id_pem(id_key);
    std::optional<PrivatePem> author_pem;
    if (!author_key.empty()) author_pem.emplace(author_key);
    const auto signed_block = cvm::sev::sign_snp_id_block(
        block, id_pem.text, author_pem ? std::optional<std::string>(author_pem->text) : std::nullopt);
    write_all(block_out, signed_block.id_block);
    write_all(auth_out, signed_block.id_auth);

    const std::string author_digest =
        signed_block.author_key_digest ? cvm::to_hex(*signed_block.author_key_digest) : std::string();
    if (spec_.json) {
        nlohmann::ordered_json j;
        j["id_block"] = block_out;
        j["id_auth"] = auth_out;
        j["launch_digest"] = cvm::to_hex(block.launch_digest);
        j["policy"] = fmt::format("{:#x}", block.policy);
        j["family_id"] = cvm::to_hex(block.family_id);
        j["image_id"] = cvm::to_hex(block.image_id);
        j["guest_svn"] = block.guest_svn;
        j["author_key_en"] = signed_block.author_key_digest.has_value();
        j["id_key_digest"] = cvm::to_hex(signed_block.id_key_digest);
        j["author_key_digest"] = signed_block.author_key_digest ? nlohmann::ordered_json(author_digest) : nullptr;
        fmt::print("{}\n", j.dump(2));
    } else {
        fmt::print("wrote {} (96 bytes): ID block for launch digest {}, policy {:#x}, guest SVN {}\n", block_out,
                   cvm::to_hex(block.launch_digest), block.policy, block.guest_svn);
        fmt::print("wrote {} (4096 bytes): ID auth, signed by the ID key{}\n", auth_out,
                   signed_block.author_key_digest ? ", the ID key signed by the author key (AUTHOR_KEY_EN)" : "");
        fmt::print("ID_KEY_DIGEST      {}\n", cvm::to_hex(signed_block.id_key_digest));
        if (signed_block.author_key_digest) fmt::print("AUTHOR_KEY_DIGEST  {}\n", author_digest);
    }
    return 0;
}

} // namespace cvmlaunch
