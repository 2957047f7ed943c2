// PCR replay of a parsed log (docs/event-log.md, "Replay").
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"

namespace cvm::eventlog {
namespace {

constexpr char kStartupLocality[16] = "StartupLocality";  // with its NUL: 16 bytes

// PCRs 17 to 22 are the dynamic (DRTM) ones: they reset to all ones.
std::vector<std::uint8_t> initial_value(std::uint32_t pcr, std::size_t size) {
    return std::vector<std::uint8_t>(size, pcr >= 17 && pcr <= 22 ? 0xff : 0x00);
}

} // namespace

PcrValues replay(const Log& log, const std::string& name) {
    PcrValues out;
    std::optional<std::uint8_t> locality;
    std::set<std::pair<std::uint16_t, std::uint32_t>> incomplete;  // (bank, PCR) an event left unsaid
    bool pcr0_extended = false;
    for (const Event& e : log.events) {
        if (e.type == EV_NO_ACTION) {
            if (e.data.size() == 17 && std::memcmp(e.data.data(), kStartupLocality, 16) == 0) {
                if (e.pcr_index != 0 || pcr0_extended || locality)
                    throw_format_error(name, e.offset, fmt::format("event {} StartupLocality", e.index),
                                       "one, in PCR 0, before any PCR 0 measurement", "a misplaced one");
                std::uint8_t value = e.data[16];
                if (value != 0 && value != 3 && value != 4)
                    throw_format_error(name, e.data_offset + 16, fmt::format("event {} StartupLocality", e.index),
                                       "locality 0, 3 or 4 (H-CRTM)", std::to_string(value));
                locality = value;
            }
            continue;
        }
        if (e.pcr_index == 0) pcr0_extended = true;
        for (const AlgorithmSize& bank : log.spec_id.algorithms) {
            auto algorithm = hash_algorithm(bank.algorithm);
            if (!algorithm) continue;  // a bank libcvm cannot compute is not replayed
            const EventDigest* digest = e.digest(bank.algorithm);
            if (!digest) {
                incomplete.insert({bank.algorithm, e.pcr_index});
                continue;
            }
            auto& pcrs = out.banks[bank.algorithm];
            auto it = pcrs.find(e.pcr_index);
            if (it == pcrs.end()) {
                auto start = initial_value(e.pcr_index, bank.digest_size);
                if (e.pcr_index == 0 && locality) start.back() = *locality;
                it = pcrs.emplace(e.pcr_index, std::move(start)).first;
            }
            Digest next = Hasher(*algorithm).update(it->second).update(digest->bytes).finish();
            it->second.assign(next.bytes().begin(), next.bytes().end());
        }
    }
    for (const auto& [bank, pcr] : incomplete) {
        auto it = out.banks.find(bank);
        if (it != out.banks.end()) it->second.erase(pcr);
    }
    return out;
}

} // namespace cvm::eventlog
