#include "backends/arm-cca/rim.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::cca {
namespace {

// Descriptor layout (TF-RMM measurement_descs.h): type at 0, length at 8,
// the current RIM at 0x10 (64 bytes), type-specific fields from 0x50.
constexpr std::uint8_t kDescData = 0;
constexpr std::uint8_t kDescRec = 1;
constexpr std::uint8_t kDescRipas = 2;
constexpr std::size_t kDescSize = 0x100;
constexpr std::size_t kDescRim = 0x10;
constexpr std::size_t kDescBody = 0x50;

// RmiRecParams (RMM 1.0 smc-rmi.h): flags at 0, pc at 0x200, gprs at 0x300.
constexpr std::size_t kRecFlags = 0x000;
constexpr std::size_t kRecPc = 0x200;
constexpr std::size_t kRecGprs = 0x300;
constexpr std::uint64_t kRecRunnable = 1;

constexpr std::uint64_t kMeasureContent = 1;

std::span<std::uint8_t> as_span(std::array<std::uint8_t, kDescSize>& d) { return {d.data(), d.size()}; }

} // namespace

std::uint8_t rmi_hash_algorithm(HashAlgorithm algorithm) {
    switch (algorithm) {
    case HashAlgorithm::sha256: return 0;
    case HashAlgorithm::sha512: return 1;
    case HashAlgorithm::sha384: break;
    }
    throw Error("RMM 1.0 realms measure with SHA-256 or SHA-512; SHA-384 is not an RmiHashAlgorithm there");
}

std::vector<std::uint8_t> RealmParams::measured_page() const {
    std::vector<std::uint8_t> page(kGranule, 0);
    std::span<std::uint8_t> p(page);
    // Offsets of RmiRealmParams (RMM 1.0): flags 0x0, s2sz 0x8, sve_vl 0x10,
    // num_bps 0x18, num_wps 0x20, pmu_num_ctrs 0x28, hash_algo 0x30. Nothing
    // else (RPV, vmid, RTT base and levels) is copied into the measured page.
    le::write<std::uint64_t>(p, 0x00, flags);
    le::write<std::uint32_t>(p, 0x08, s2sz);
    le::write<std::uint32_t>(p, 0x10, sve_vl);
    le::write<std::uint32_t>(p, 0x18, num_bps);
    le::write<std::uint32_t>(p, 0x20, num_wps);
    le::write<std::uint32_t>(p, 0x28, pmu_num_ctrs);
    le::write<std::uint8_t>(p, 0x30, rmi_hash_algorithm(algorithm));
    return page;
}

Rim::Rim(const RealmParams& params) {
    auto page = params.measured_page();
    rim_ = hash(params.algorithm, page);
}

void Rim::extend(std::array<std::uint8_t, kDescSize>& d, std::uint8_t type) {
    auto span = as_span(d);
    le::write<std::uint8_t>(span, 0x00, type);
    le::write<std::uint64_t>(span, 0x08, kDescSize);
    std::copy(rim_.bytes().begin(), rim_.bytes().end(), d.begin() + kDescRim);
    rim_ = hash(rim_.algorithm(), ByteSpan(d.data(), d.size()));
}

void Rim::data_measured(std::uint64_t ipa, ByteSpan content) {
    if (ipa % kGranule || content.size() > kGranule)
        throw Error(fmt::format("DATA granule at {:#x} with {} bytes: expected a 4 KiB-aligned IPA and at most "
                                "4096 bytes", ipa, content.size()));
    Hasher hasher(algorithm());
    hasher.update(content);
    static const std::array<std::uint8_t, kGranule> zeros{};
    hasher.update(ByteSpan(zeros.data(), kGranule - content.size()));
    data_measured_hash(ipa, hasher.finish());
}

void Rim::data_measured_hash(std::uint64_t ipa, const Digest& content_hash) {
    if (ipa % kGranule || content_hash.algorithm() != algorithm())
        throw Error(fmt::format("DATA granule at {:#x}: expected a 4 KiB-aligned IPA and a {} content hash", ipa,
                                to_string(algorithm())));
    std::array<std::uint8_t, kDescSize> d{};
    le::write<std::uint64_t>(as_span(d), kDescBody, ipa);
    le::write<std::uint64_t>(as_span(d), kDescBody + 8, kMeasureContent);
    std::copy(content_hash.bytes().begin(), content_hash.bytes().end(), d.begin() + kDescBody + 0x10);
    extend(d, kDescData);
}

void Rim::data_unmeasured(std::uint64_t ipa) {
    if (ipa % kGranule) throw Error(fmt::format("DATA granule at {:#x}: expected a 4 KiB-aligned IPA", ipa));
    std::array<std::uint8_t, kDescSize> d{};
    le::write<std::uint64_t>(as_span(d), kDescBody, ipa);
    extend(d, kDescData);  // flags RMI_NO_MEASURE_CONTENT (0), content zero
}

void Rim::ripas(std::uint64_t base, std::uint64_t top) {
    if (base % kGranule || top % kGranule || top <= base)
        throw Error(fmt::format("RIPAS range [{:#x}, {:#x}): expected a non-empty 4 KiB-aligned range", base, top));
    std::array<std::uint8_t, kDescSize> d{};
    le::write<std::uint64_t>(as_span(d), kDescBody, base);
    le::write<std::uint64_t>(as_span(d), kDescBody + 8, top);
    extend(d, kDescRipas);
}

void Rim::rec(std::uint64_t pc, const std::array<std::uint64_t, 8>& gprs) {
    // The REC descriptor holds H(RmiRecParams page) with only flags, pc and
    // gprs copied; MPIDR and the auxiliary granules are not measured.
    std::vector<std::uint8_t> params(kGranule, 0);
    std::span<std::uint8_t> p(params);
    le::write<std::uint64_t>(p, kRecFlags, kRecRunnable);
    le::write<std::uint64_t>(p, kRecPc, pc);
    for (std::size_t i = 0; i < gprs.size(); ++i) le::write<std::uint64_t>(p, kRecGprs + 8 * i, gprs[i]);
    Digest params_hash = hash(algorithm(), params);

    std::array<std::uint8_t, kDescSize> d{};
    std::copy(params_hash.bytes().begin(), params_hash.bytes().end(), d.begin() + kDescBody);
    extend(d, kDescRec);
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> ripas_blocks(std::uint64_t base, std::uint64_t top,
                                                                 unsigned s2sz) {
    if (s2sz < 32 || s2sz > 48)
        throw Error(fmt::format("IPA width {} bits: the RIPAS model covers 32 to 48 bits (no LPA2)", s2sz));
    if (base % kGranule || top % kGranule || top <= base)
        throw Error(fmt::format("RIPAS range [{:#x}, {:#x}): expected a non-empty 4 KiB-aligned range", base, top));
    // 4 KiB granules resolve 9 bits per level. KVM concatenates start-level
    // tables when the start level would hold 16 entries or fewer.
    const unsigned table_bits = s2sz - 12;
    unsigned levels = (table_bits + 8) / 9;
    if (table_bits - 9 * (levels - 1) <= 4) --levels;
    const unsigned start_level = 4 - levels;

    std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks;
    for (std::uint64_t addr = base; addr < top;) {
        std::uint64_t size = 0;
        for (unsigned level = start_level; level <= 3; ++level) {
            std::uint64_t block = kGranule << (9 * (3 - level));
            if (addr % block == 0 && top - addr >= block) {
                size = block;
                break;
            }
        }
        blocks.emplace_back(addr, addr + size);
        addr += size;
    }
    return blocks;
}

Digest rem_extend(const Digest& old_rem, ByteSpan value) {
    if (old_rem.algorithm() != HashAlgorithm::sha256 && old_rem.algorithm() != HashAlgorithm::sha512)
        throw Error(fmt::format("a REM is a SHA-256 or SHA-512 value, not {}", to_string(old_rem.algorithm())));
    if (value.size() > 64)
        throw Error(fmt::format("REM extension of {} bytes: RSI_MEASUREMENT_EXTEND takes at most 64", value.size()));
    Hasher hasher(old_rem.algorithm());
    hasher.update(old_rem.bytes());
    hasher.update(value);
    return hasher.finish();
}

} // namespace cvm::cca
