#include "backends/amd-sev/snp_page_info.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"
#include "libcvm/digest/page_hashes.hpp"

namespace cvm::sev {
namespace {
constexpr std::size_t kPage = 4096;
}

SnpLaunchDigest::SnpLaunchDigest() : ld_(Digest::zero(HashAlgorithm::sha384)) {}

SnpLaunchDigest::SnpLaunchDigest(const Digest& start) : ld_(start) {
    if (start.algorithm() != HashAlgorithm::sha384 || start.size() != 48)
        throw Error("an SNP launch digest is a 48-byte SHA-384 value");
}

std::array<std::uint8_t, kPageInfoSize> SnpLaunchDigest::info_for(std::uint64_t gpa, uapi::SnpPageType type,
                                                                  const Digest* content) const {
    std::array<std::uint8_t, kPageInfoSize> info{};
    std::copy(ld_.bytes().begin(), ld_.bytes().end(), info.begin());
    if (content) std::copy(content->bytes().begin(), content->bytes().end(), info.begin() + 0x30);
    le::write<std::uint16_t>(info, 0x60, kPageInfoSize);
    info[0x62] = type;
    // imi_page, vmpl3/2/1 permissions and the reserved byte stay zero.
    le::write<std::uint64_t>(info, 0x68, gpa);
    return info;
}

namespace {
bool has_contents(uapi::SnpPageType type) { return type == uapi::kSnpPageNormal || type == uapi::kSnpPageVmsa; }
}

std::array<std::uint8_t, kPageInfoSize> SnpLaunchDigest::page_info(std::uint64_t gpa, uapi::SnpPageType type,
                                                                   ByteSpan contents) const {
    if (!has_contents(type)) return info_for(gpa, type, nullptr);
    if (contents.size() != kPage)
        throw Error(fmt::format("SNP page at {:#x}: {} bytes of contents, expected 4096", gpa, contents.size()));
    const Digest page = hash(HashAlgorithm::sha384, contents);
    return info_for(gpa, type, &page);
}

void SnpLaunchDigest::chain(std::uint64_t gpa, uapi::SnpPageType type, const Digest* content) {
    if (gpa % kPage != 0) throw Error(fmt::format("SNP page GPA {:#x} is not 4 KiB-aligned", gpa));
    ld_ = sha384_.update(info_for(gpa, type, content)).finish();
}

void SnpLaunchDigest::add_page(std::uint64_t gpa, uapi::SnpPageType type, ByteSpan contents) {
    if (gpa % kPage != 0) throw Error(fmt::format("SNP page GPA {:#x} is not 4 KiB-aligned", gpa));
    ld_ = sha384_.update(page_info(gpa, type, contents)).finish();
}

void SnpLaunchDigest::add_pages(std::uint64_t gpa, uapi::SnpPageType type, const Payload& pages) {
    if (pages.size() % kPage != 0 || pages.size() == 0)
        throw Error(fmt::format("SNP range at {:#x}: {} bytes is not a positive multiple of 4 KiB", gpa, pages.size()));
    if (gpa % kPage != 0) throw Error(fmt::format("SNP page GPA {:#x} is not 4 KiB-aligned", gpa));
    if (!has_contents(type)) {
        for (std::size_t at = 0; at < pages.size(); at += kPage) chain(gpa + at, type, nullptr);
        return;
    }
    for_each_page_hash(HashAlgorithm::sha384, pages, 0, [&](std::size_t index, const Digest& content) {
        chain(gpa + index * kPage, type, &content);
    });
}

} // namespace cvm::sev
