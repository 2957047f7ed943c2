#include "cvm/spec.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {

std::string_view to_string(ImageRole role) {
    switch (role) {
    case ImageRole::kernel: return "kernel";
    case ImageRole::initrd: return "initrd";
    case ImageRole::firmware: return "firmware";
    case ImageRole::dtb: return "dtb";
    case ImageRole::blob: return "blob";
    }
    return "?";
}

const ImageSpec* VmSpec::image(ImageRole role) const {
    const ImageSpec* found = nullptr;
    for (const auto& image : images) {
        if (image.role != role) continue;
        if (found) throw Error(fmt::format("the spec has more than one {} image", to_string(role)));
        found = &image;
    }
    return found;
}

std::uint64_t parse_unsigned(std::string_view text, std::string_view what, std::uint64_t min, std::uint64_t max) {
    std::string_view digits = text;
    int base = 10;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        digits.remove_prefix(2);
        base = 16;
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < min || value > max)
        throw Error(fmt::format("'{}' is not a number from {} to {} (decimal, or hex with 0x)", text, min, max), 0,
                    std::string(what));
    return value;
}

std::uint64_t parse_size(std::string_view text, std::string_view what) {
    auto bad = [&](std::string_view why) -> Error {
        return Error(fmt::format("{} '{}': {}; expected a number of bytes with an optional K, M, G or T "
                                 "suffix (binary, e.g. 512M)", what, text, why));
    };
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data()) throw bad("not a number");
    std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
    std::string unit;
    for (char c : suffix) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    unsigned shift = 0;
    if (unit.empty() || unit == "B") shift = 0;
    else if (unit == "K" || unit == "KB" || unit == "KIB") shift = 10;
    else if (unit == "M" || unit == "MB" || unit == "MIB") shift = 20;
    else if (unit == "G" || unit == "GB" || unit == "GIB") shift = 30;
    else if (unit == "T" || unit == "TB" || unit == "TIB") shift = 40;
    else throw bad(fmt::format("unknown unit '{}'", suffix));
    if (shift && value > (~std::uint64_t{0} >> shift)) throw bad("too large");
    return value << shift;
}

} // namespace cvm
