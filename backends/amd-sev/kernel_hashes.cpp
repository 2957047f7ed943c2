#include "backends/amd-sev/kernel_hashes.hpp"

#include <algorithm>

#include "backends/amd-sev/guid.hpp"
#include "cvm/digest.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::sev {
namespace {

constexpr Guid kTableGuid = guid_le("9438d606-4f22-4cc9-b479-a793d411fd21");
constexpr Guid kCmdlineGuid = guid_le("97d02dd8-bd20-4c94-aa78-e7714d36ab2a");
constexpr Guid kInitrdGuid = guid_le("44baf731-3a2f-4bd7-9af1-41e29169781d");
constexpr Guid kKernelGuid = guid_le("4de79437-abd2-427f-b835-d5b172d2045b");
constexpr std::size_t kEntrySize = 16 + 2 + 32;

void put_entry(HashTable& table, std::size_t at, const Guid& guid, const Digest& digest) {
    std::copy(guid.begin(), guid.end(), table.begin() + static_cast<std::ptrdiff_t>(at));
    le::write<std::uint16_t>(table, at + 16, kEntrySize);
    std::copy(digest.bytes().begin(), digest.bytes().end(), table.begin() + static_cast<std::ptrdiff_t>(at + 18));
}

} // namespace

HashTable build_hash_table(const Payload& kernel, const Payload* initrd, std::string_view cmdline) {
    HashTable table{};
    std::copy(kTableGuid.begin(), kTableGuid.end(), table.begin());
    le::write<std::uint16_t>(table, 16, kHashTableSize);

    Hasher sha256(HashAlgorithm::sha256);
    const std::uint8_t nul = 0;
    sha256.update(cmdline).update(ByteSpan(&nul, 1));
    put_entry(table, 18, kCmdlineGuid, sha256.finish());
    put_entry(table, 18 + kEntrySize, kInitrdGuid, initrd ? hash(HashAlgorithm::sha256, *initrd) : hash(HashAlgorithm::sha256, ByteSpan{}));
    put_entry(table, 18 + 2 * kEntrySize, kKernelGuid, hash(HashAlgorithm::sha256, kernel));
    return table;
}

std::optional<HashTableEntries> find_hash_table(ByteSpan bytes) {
    const Guid* order[] = {&kCmdlineGuid, &kInitrdGuid, &kKernelGuid};
    for (std::size_t at = 0; at + kHashTableSize <= bytes.size(); ++at) {
        if (!std::equal(kTableGuid.begin(), kTableGuid.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at)))
            continue;
        if (le::read<std::uint16_t>(bytes, at + 16) != kHashTableSize) continue;
        HashTableEntries entries;
        entries.offset = at;
        std::array<std::uint8_t, 32>* digests[] = {&entries.cmdline, &entries.initrd, &entries.kernel};
        bool ok = true;
        for (std::size_t i = 0; i < 3 && ok; ++i) {
            std::size_t entry = at + 18 + i * kEntrySize;
            ok = std::equal(order[i]->begin(), order[i]->end(), bytes.begin() + static_cast<std::ptrdiff_t>(entry)) &&
                 le::read<std::uint16_t>(bytes, entry + 16) == kEntrySize;
            if (ok) std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(entry + 18), 32, digests[i]->begin());
        }
        if (ok) return entries;
    }
    return std::nullopt;
}

} // namespace cvm::sev
