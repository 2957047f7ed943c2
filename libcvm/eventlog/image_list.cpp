// The verifier's list of known-good images (sha*sum output).
#include <sstream>
#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"
#include "cvm/image.hpp"

namespace cvm::eventlog {

namespace {
// sha512sum lines are ~130 bytes plus a path: a million images is plenty.
constexpr std::uint64_t kMaxListSize = 64ull << 20;
} // namespace

ImageList ImageList::read(const std::string& path) {
    // Through the library's one input path: a directory, a FIFO or
    // /dev/zero is refused by name instead of reading as no lines (or forever).
    auto bytes = read_input_file(path, kMaxListSize);
    std::istringstream in(std::string(bytes.begin(), bytes.end()));
    ImageList list;
    std::string line;
    for (unsigned number = 1; std::getline(in, line); ++number) {
        std::string where = fmt::format("{}:{}", path, number);
        if (line.empty() || line[0] == '#') continue;
        auto space = line.find(' ');
        if (space == std::string::npos || space + 2 > line.size() || (line[space + 1] != ' ' && line[space + 1] != '*'))
            throw Error("expected \"HEX  PATH\" or \"HEX *PATH\" (sha256sum output)", 0, where);
        std::string hex = line.substr(0, space);
        std::string file = line.substr(space + 2);
        HashAlgorithm algorithm;
        switch (hex.size()) {
        case 64: algorithm = HashAlgorithm::sha256; break;
        case 96: algorithm = HashAlgorithm::sha384; break;
        case 128: algorithm = HashAlgorithm::sha512; break;
        default:
            throw Error(fmt::format("a digest of {} hex digits: expected 64 (SHA-256), 96 (SHA-384) or 128 (SHA-512)",
                                    hex.size()), 0, where);
        }
        KnownImage listed{algorithm, from_hex(hex, where), file, {}};
        struct stat st {};
        if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            Payload payload = Payload::map_file(file);
            Digest actual = hash(algorithm, payload);
            if (to_hex(actual.bytes()) != to_hex(listed.digest))
                throw Error(fmt::format("{} hashes to {} {}, not the listed value", file, to_string(algorithm), actual.hex()),
                            0, where);
            listed.path = file;
            try {
                BzImage kernel = parse_bzimage(payload.bytes(), file);
                Digest part = hash(HashAlgorithm::sha256, kernel.kernel);
                list.images_.push_back({HashAlgorithm::sha256, {part.bytes().begin(), part.bytes().end()},
                                        "protected-mode part of " + file, {}});
                // fw_cfg serves a firmware the setup sectors apart (pc_machine.hpp).
                Digest setup = hash(HashAlgorithm::sha256, payload.bytes().first(kernel.setup_size));
                list.images_.push_back({HashAlgorithm::sha256, {setup.bytes().begin(), setup.bytes().end()},
                                        "setup sectors of " + file, {}});
            } catch (const Error&) {
                // Not a bzImage this launcher boots: only the whole file is known.
            }
        }
        list.images_.push_back(std::move(listed));
    }
    return list;
}

const KnownImage* ImageList::find(HashAlgorithm algorithm, ByteSpan digest) const {
    auto same = [&](const KnownImage& image) {
        return image.algorithm == algorithm &&
               std::equal(image.digest.begin(), image.digest.end(), digest.begin(), digest.end());
    };
    for (const auto& image : images_)
        if (same(image)) return &image;
    for (const auto& image : derived_)
        if (same(image)) return &image;
    for (std::size_t i = 0; i < images_.size(); ++i) {
        const KnownImage& listed = images_[i];
        if (listed.path.empty() || listed.algorithm == algorithm || !derived_done_.insert({i, algorithm}).second)
            continue;
        Digest other = hash(algorithm, Payload::map_file(listed.path));
        derived_.push_back({algorithm, {other.bytes().begin(), other.bytes().end()}, listed.what, listed.path});
        if (same(derived_.back())) return &derived_.back();
    }
    return nullptr;
}

} // namespace cvm::eventlog
