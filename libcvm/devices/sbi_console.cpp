#include "libcvm/devices/sbi_console.hpp"

#include <unistd.h>

namespace cvm {
namespace {

// SBI specification v2.0, chapter 5 (legacy extensions) and 3.2 (errors).
constexpr unsigned long kLegacyPutchar = 0x01;
constexpr unsigned long kLegacyGetchar = 0x02;
constexpr long kErrNotSupported = -2;

} // namespace

void SbiConsole::handle(exits::RiscvSbi& sbi) {
    if (sbi.extension == kLegacyPutchar) {
        auto c = static_cast<char>(sbi.args[0]);
        std::lock_guard lock(mutex_);
        if (console_fd_ >= 0 && ::write(console_fd_, &c, 1) < 0) {
            // A closed console loses output; the guest goes on.
        }
        sbi.ret[0] = 0;
    } else if (sbi.extension == kLegacyGetchar) {
        sbi.ret[0] = static_cast<unsigned long>(-1L);  // no input
    } else {
        sbi.ret[0] = static_cast<unsigned long>(kErrNotSupported);
    }
}

} // namespace cvm
