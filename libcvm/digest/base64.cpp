// RFC 4648 base64, written out: OpenSSL's EVP_DecodeBlock accepts
// whitespace and returns padding as zero bytes, and a verifier comparing
// digests wants one spelling per value.
#include <algorithm>

#include <fmt/format.h>

#include "cvm/digest.hpp"
#include "cvm/error.hpp"

namespace cvm {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

} // namespace

std::string to_base64(ByteSpan bytes) {
    std::string text;
    text.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        std::uint32_t group = std::uint32_t{bytes[i]} << 16;
        if (n > 1) group |= std::uint32_t{bytes[i + 1]} << 8;
        if (n > 2) group |= bytes[i + 2];
        for (std::size_t k = 0; k < 4; ++k)
            text += k <= n ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=';
    }
    return text;
}

std::vector<std::uint8_t> from_base64(std::string_view text, std::string_view what) {
    if (text.size() % 4 != 0)
        throw Error(fmt::format("{}: {} base64 characters, expected a multiple of 4", what, text.size()));
    std::vector<std::uint8_t> bytes;
    bytes.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const std::size_t pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=') : 0;
        std::uint32_t group = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const int v = k < 4 - pad ? sextet(text[i + k]) : 0;
            if (v < 0)
                throw Error(fmt::format("{}: character {} is '{}', expected base64 (A-Z a-z 0-9 + /, '=' at the end)",
                                        what, i + k, text[i + k]));
            group = group << 6 | static_cast<std::uint32_t>(v);
        }
        // The bits a padded group does not carry must be zero.
        if ((pad == 1 && (group & 0xff)) || (pad == 2 && (group & 0xffff)))
            throw Error(fmt::format("{}: the last group has bits set past the data", what));
        bytes.push_back(static_cast<std::uint8_t>(group >> 16));
        if (pad < 2) bytes.push_back(static_cast<std::uint8_t>(group >> 8));
        if (pad < 1) bytes.push_back(static_cast<std::uint8_t>(group));
    }
    return bytes;
}

} // namespace cvm
