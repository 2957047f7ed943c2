// The Realm Initial Measurement (RIM) and Realm Extensible Measurements
// (REMs), computed exactly as TF-RMM computes them (lib/measurement in tag
// rmm-spec-v1.0-rel0; app/attestation/rmm_stub in later trees).
//
// RMI_REALM_CREATE sets RIM = H(params page); every later measured step sets
// RIM = H(256-byte descriptor holding the previous RIM). All integers are
// little-endian, whatever the host; unspecified bytes are zero.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"

namespace cvm::cca {

inline constexpr std::uint64_t kGranule = 4096;

// RMM specification revision: 1.0 measures RMI_RTT_INIT_RIPAS, 2.0 does not
// (TF-RMM "align RMI_RTT_INIT_RIPAS to RMMv2.0").
enum class RmmVersion { v1_0, v2_0 };

// The measured fields of RmiRealmParams, already in RMM encoding.
struct RealmParams {
    static constexpr std::uint64_t kFlagLpa2 = 1u << 0;
    static constexpr std::uint64_t kFlagSve = 1u << 1;
    static constexpr std::uint64_t kFlagPmu = 1u << 2;

    std::uint64_t flags = 0;
    std::uint32_t s2sz = 0;          // IPA width in bits
    std::uint32_t sve_vl = 0;        // VL/128 - 1, with kFlagSve
    std::uint32_t num_bps = 0;       // breakpoints - 1
    std::uint32_t num_wps = 0;       // watchpoints - 1
    std::uint32_t pmu_num_ctrs = 0;  // with kFlagPmu
    HashAlgorithm algorithm = HashAlgorithm::sha256;  // sha256 (0) or sha512 (1)

    // The 4096-byte page RMI_REALM_CREATE hashes: only the fields above.
    std::vector<std::uint8_t> measured_page() const;
};

// RmiHashAlgorithm: 0 SHA-256, 1 SHA-512. Throws for anything else: RMM 1.0
// has no SHA-384.
std::uint8_t rmi_hash_algorithm(HashAlgorithm algorithm);

// A realm's RIM, extended one RMI call at a time.
class Rim {
public:
    // RMI_REALM_CREATE.
    explicit Rim(const RealmParams& params);

    // RMI_DATA_CREATE with RMI_MEASURE_CONTENT for the granule at `ipa`;
    // `content` (at most 4096 bytes) is zero-padded to the granule.
    void data_measured(std::uint64_t ipa, ByteSpan content);
    // The same step given the zero-padded granule's content hash, computed
    // elsewhere (in parallel, by for_each_page_hash).
    void data_measured_hash(std::uint64_t ipa, const Digest& content_hash);
    // RMI_DATA_CREATE with RMI_NO_MEASURE_CONTENT: ipa and flags, no content.
    void data_unmeasured(std::uint64_t ipa);
    // One RIPAS descriptor for the RTT entry [base, top) (RMM 1.0 only).
    void ripas(std::uint64_t base, std::uint64_t top);
    // RMI_REC_CREATE of a RUNNABLE REC (non-runnable RECs are not measured).
    void rec(std::uint64_t pc, const std::array<std::uint64_t, 8>& gprs);

    const Digest& value() const noexcept { return rim_; }
    HashAlgorithm algorithm() const noexcept { return rim_.algorithm(); }

private:
    void extend(std::array<std::uint8_t, 256>& descriptor, std::uint8_t type);
    Digest rim_;
};

// The RTT entries RMI_RTT_INIT_RIPAS visits for [base, top) when the host
// has created no table below the start level: the largest aligned block that
// fits at each step, among the block sizes of a stage 2 with `s2sz` IPA
// bits, 4 KiB granules and concatenated start-level tables where the start
// level would have 16 or fewer entries (what KVM does).
std::vector<std::pair<std::uint64_t, std::uint64_t>> ripas_blocks(std::uint64_t base, std::uint64_t top,
                                                                 unsigned s2sz);

// RSI_MEASUREMENT_EXTEND: new REM = H(old REM ‖ value), one hash over the
// concatenation (TF-RMM measurement.c). `value` is at most 64 bytes.
Digest rem_extend(const Digest& old_rem, ByteSpan value);

} // namespace cvm::cca
