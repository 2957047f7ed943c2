// The SEV-SNP launch digest: for every page the PSP adds to the guest, in
// order, LD = SHA-384(PAGE_INFO), PAGE_INFO being the 112-byte structure of
// the SNP ABI specification ("PAGE_INFO"): the current LD, the page's
// contents digest (zero for pages whose contents are not measured), its
// length, type, VMPL permissions and GPA.
#pragma once

#include <array>
#include <cstdint>

#include "backends/amd-sev/sev_uapi.hpp"
#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"

namespace cvm::sev {

constexpr std::size_t kPageInfoSize = 0x70;
// VMSA pages are measured at this GPA, not where KVM keeps them.
constexpr std::uint64_t kVmsaGpa = 0x0000'ffff'ffff'f000ull;

class SnpLaunchDigest {
public:
    SnpLaunchDigest();
    // Starts from a given LD (e.g. a precomputed firmware-only digest).
    explicit SnpLaunchDigest(const Digest& start);

    // One 4 KiB page; `contents` is read only for NORMAL and VMSA pages.
    void add_page(std::uint64_t gpa, uapi::SnpPageType type, ByteSpan contents);
    // Every page of [gpa, gpa + pages.size()); the size must be a multiple of
    // 4 KiB. NORMAL pages' content hashes are computed on every core
    // (for_each_page_hash: a file is read by the workers, a mapping released
    // behind them), the chain here.
    void add_pages(std::uint64_t gpa, uapi::SnpPageType type, const Payload& pages);

    const Digest& value() const noexcept { return ld_; }
    // The PAGE_INFO the next add_page would hash (for tests and tracing).
    std::array<std::uint8_t, kPageInfoSize> page_info(std::uint64_t gpa, uapi::SnpPageType type,
                                                      ByteSpan contents) const;

private:
    // Chains one page whose contents digest (NORMAL, VMSA) is `content`.
    void chain(std::uint64_t gpa, uapi::SnpPageType type, const Digest* content);
    std::array<std::uint8_t, kPageInfoSize> info_for(std::uint64_t gpa, uapi::SnpPageType type,
                                                     const Digest* content) const;

    Digest ld_;
    Hasher sha384_{HashAlgorithm::sha384};
};

} // namespace cvm::sev
