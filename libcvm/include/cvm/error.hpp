// The one error type of libcvm.
//
// Every failure, whether a malformed input file, a refused ioctl or a
// configuration the measurement model does not understand, is reported as a
// cvm::Error. It carries the errno (0 when the failure is not a system call's),
// the source it concerns (a file name, an ioctl name) and, for parsers, the
// byte offset, so a user can find and fix the problem without a debugger.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace cvm {

class Error : public std::runtime_error {
public:
    // `where` names the input (file path, ioctl, option); `offset` is the byte
    // offset inside that input when the error is about its contents.
    explicit Error(std::string message, int err = 0, std::string where = {},
                   std::optional<std::uint64_t> offset = std::nullopt);

    // The errno of the failed system call, or 0.
    int err() const noexcept { return err_; }
    // The bare message without location prefix.
    const std::string& message() const noexcept { return message_; }
    const std::string& where() const noexcept { return where_; }
    std::optional<std::uint64_t> offset() const noexcept { return offset_; }

private:
    int err_;
    std::string message_;
    std::string where_;
    std::optional<std::uint64_t> offset_;
};

// A parser's complaint: "<file>: offset 0x<off>: <what>: expected <e>, found <f>".
[[noreturn]] void throw_format_error(const std::string& file, std::uint64_t offset,
                                     const std::string& what, const std::string& expected,
                                     const std::string& found);

// A failed system call: "<what>: <strerror(err)>".
[[noreturn]] void throw_system_error(const std::string& what, int err);

} // namespace cvm
