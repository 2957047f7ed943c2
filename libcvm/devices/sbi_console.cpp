#include "libcvm/devices/sbi_console.hpp"

#include <unistd.h>

#include <algorithm>

#include "cvm/error.hpp"

namespace cvm {
namespace {

// SBI specification v2.0: chapter 5 (legacy extensions), chapter 12 (Debug
// Console) and 3.2 (errors).
constexpr unsigned long kLegacyPutchar = 0x01;
constexpr unsigned long kLegacyGetchar = 0x02;
constexpr unsigned long kDbcnWrite = 0;
constexpr unsigned long kDbcnRead = 1;
constexpr unsigned long kDbcnWriteByte = 2;
constexpr long kErrNotSupported = -2;
constexpr long kErrInvalidParam = -3;
// One console_write call copies at most this much; the guest resumes from
// the count it gets back, as the specification allows.
constexpr std::uint64_t kMaxWrite = 4096;

unsigned long sbi_error(long error) { return static_cast<unsigned long>(error); }

} // namespace

void SbiConsole::emit(const void* bytes, std::size_t count) {
    std::lock_guard lock(mutex_);
    if (console_fd_ >= 0 && ::write(console_fd_, bytes, count) < 0) {
        // A closed console loses output; the guest goes on.
    }
}

void SbiConsole::handle(exits::RiscvSbi& sbi) {
    if (sbi.extension == kLegacyPutchar) {
        auto c = static_cast<char>(sbi.args[0]);
        emit(&c, 1);
        sbi.ret[0] = 0;
    } else if (sbi.extension == kLegacyGetchar) {
        sbi.ret[0] = static_cast<unsigned long>(-1L);  // no input
    } else if (sbi.extension == kDbcnExtension && sbi.function == kDbcnWriteByte) {
        auto c = static_cast<char>(sbi.args[0]);
        emit(&c, 1);
        sbi.ret[0] = 0;
        sbi.ret[1] = 0;
    } else if (sbi.extension == kDbcnExtension && sbi.function == kDbcnWrite && memory_) {
        // args: num_bytes, base_addr_lo, base_addr_hi (zero on RV64).
        const std::uint64_t count = std::min<std::uint64_t>(sbi.args[0], kMaxWrite);
        const std::uint64_t gpa = sbi.args[1];
        try {
            if (sbi.args[2] != 0) throw Error("DBCN buffer above 2^64");
            auto bytes = memory_->at(gpa, count);
            emit(bytes.data(), bytes.size());
            sbi.ret[0] = 0;
            sbi.ret[1] = count;
        } catch (const Error&) {
            sbi.ret[0] = sbi_error(kErrInvalidParam);  // not guest RAM the VMM maps
            sbi.ret[1] = 0;
        }
    } else if (sbi.extension == kDbcnExtension && sbi.function == kDbcnRead) {
        sbi.ret[0] = 0;  // no input: zero bytes read
        sbi.ret[1] = 0;
    } else {
        sbi.ret[0] = sbi_error(kErrNotSupported);
    }
}

} // namespace cvm
