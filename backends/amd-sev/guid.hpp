// EFI GUIDs in their on-disk "mixed-endian" form (RFC 4122 text, with the
// first three fields stored little-endian), as OVMF and QEMU write them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cvm::sev {

using Guid = std::array<std::uint8_t, 16>;

namespace detail {
constexpr std::uint8_t hex_nibble(char c) {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
    throw "not a hex digit";  // only reachable at compile time: a typo in a GUID literal
}
} // namespace detail

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" -> the 16 bytes as stored.
consteval Guid guid_le(std::string_view text) {
    if (text.size() != 36) throw "a GUID has 36 characters";
    std::array<std::uint8_t, 16> be{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '-') { ++i; continue; }
        be[n++] = static_cast<std::uint8_t>(detail::hex_nibble(text[i]) << 4 | detail::hex_nibble(text[i + 1]));
        i += 2;
    }
    if (n != 16) throw "a GUID has 32 hex digits";
    return Guid{be[3], be[2], be[1], be[0], be[5], be[4], be[7], be[6],
                be[8], be[9], be[10], be[11], be[12], be[13], be[14], be[15]};
}

} // namespace cvm::sev
