#include "cvm/error.hpp"

#include <cstring>

#include <fmt/format.h>

namespace cvm {
namespace {

std::string compose(const std::string& message, int err, const std::string& where,
                    std::optional<std::uint64_t> offset) {
    std::string text;
    if (!where.empty()) {
        text += where;
        text += ": ";
    }
    if (offset) text += fmt::format("offset {:#x}: ", *offset);
    text += message;
    if (err != 0) text += fmt::format(" ({})", std::strerror(err));
    return text;
}

} // namespace

Error::Error(std::string message, int err, std::string where, std::optional<std::uint64_t> offset)
    : std::runtime_error(compose(message, err, where, offset)),
      err_(err), message_(std::move(message)), where_(std::move(where)), offset_(offset) {}

void throw_format_error(const std::string& file, std::uint64_t offset, const std::string& what,
                        const std::string& expected, const std::string& found) {
    throw Error(fmt::format("{}: expected {}, found {}", what, expected, found), 0, file, offset);
}

void throw_system_error(const std::string& what, int err) {
    throw Error(what, err);
}

} // namespace cvm
