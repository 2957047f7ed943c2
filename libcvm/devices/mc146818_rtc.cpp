#include "libcvm/devices/mc146818_rtc.hpp"

#include <cstring>
#include <ctime>

namespace cvm {
namespace {

// The MC146818's register map (datasheet, "Address Map").
constexpr std::uint8_t kSeconds = 0x00, kMinutes = 0x02, kHours = 0x04, kWeekday = 0x06, kDay = 0x07, kMonth = 0x08,
                       kYear = 0x09, kRegA = 0x0a, kRegB = 0x0b, kRegC = 0x0c, kRegD = 0x0d, kCentury = 0x32;
constexpr std::uint8_t kRegB24Hour = 0x02;
constexpr std::uint8_t kRegDValidRam = 0x80;

std::uint8_t bcd(int v) { return static_cast<std::uint8_t>((v / 10) << 4 | (v % 10)); }

} // namespace

Mc146818Rtc::Mc146818Rtc() {
    ram_[kRegA] = 0x26;  // 32.768 kHz time base, 1024 Hz rate; UIP clear
    ram_[kRegB] = kRegB24Hour;
    ram_[kRegD] = kRegDValidRam;
}

void Mc146818Rtc::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    std::memset(data.data(), 0, data.size());
    if (offset != 1 || data.empty()) return;  // the index register reads as zero
    const std::uint8_t reg = index_ & 0x7f;
    std::time_t now = std::time(nullptr);
    std::tm t{};
    gmtime_r(&now, &t);
    switch (reg) {
    case kSeconds: data[0] = bcd(t.tm_sec); break;
    case kMinutes: data[0] = bcd(t.tm_min); break;
    case kHours: data[0] = bcd(t.tm_hour); break;
    case kWeekday: data[0] = bcd(t.tm_wday + 1); break;
    case kDay: data[0] = bcd(t.tm_mday); break;
    case kMonth: data[0] = bcd(t.tm_mon + 1); break;
    case kYear: data[0] = bcd(t.tm_year % 100); break;
    case kCentury: data[0] = bcd((t.tm_year + 1900) / 100); break;
    case kRegC: data[0] = 0; break;  // no interrupt flags
    default: data[0] = ram_[reg]; break;
    }
}

void Mc146818Rtc::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    if (data.empty()) return;
    if (offset == 0) {
        index_ = data[0];
    } else if (offset == 1) {
        const std::uint8_t reg = index_ & 0x7f;
        // The clock follows the host: setting the time is accepted and lost;
        // register A's UIP and C, D are read-only.
        if (reg > kYear && reg != kRegA && reg != kRegC && reg != kRegD && reg != kCentury) ram_[reg] = data[0];
    }
}

} // namespace cvm
