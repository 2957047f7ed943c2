// The SEV kernel-hashes table (QEMU's layout): what OVMF checks the kernel,
// initrd and command line it receives from the VMM against, when the VMM
// boots a kernel directly with a measured firmware. docs/amd-sev.md,
// "SEV kernel-hashes table".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "cvm/bytes.hpp"

namespace cvm::sev {

// The table (168 bytes) padded with zeros to a multiple of 16, as QEMU
// passes it to LAUNCH_UPDATE_DATA.
constexpr std::size_t kHashTableSize = 168;
constexpr std::size_t kPaddedHashTableSize = 176;
using HashTable = std::array<std::uint8_t, kPaddedHashTableSize>;

// Entries in table order: cmdline (its bytes and a NUL), initrd (empty if
// none), kernel (the whole image file). Payloads are streamed through the
// hash, each chunk released after use.
HashTable build_hash_table(const Payload& kernel, const Payload* initrd, std::string_view cmdline);

// The SHA-256 entries of a table found in `bytes` (its GUID, size 168 and
// the three entries in table order), for a verifier replaying a log.
struct HashTableEntries {
    std::size_t offset = 0;  // of the table in `bytes`
    std::array<std::uint8_t, 32> cmdline{}, initrd{}, kernel{};
};
std::optional<HashTableEntries> find_hash_table(ByteSpan bytes);

} // namespace cvm::sev
