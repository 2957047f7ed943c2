#include "libcvm/devices/pc_system_control.hpp"

#include <fmt/format.h>

namespace cvm {

AcpiPm1::AcpiPm1(std::uint8_t s5_sleep_type, StopCallback stop) : s5_(s5_sleep_type), stop_(std::move(stop)) {}

void AcpiPm1::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    // Registers are 16 bits; accesses may be bytes or a 32-bit pair.
    std::uint8_t bytes[6];
    bytes[0] = static_cast<std::uint8_t>(status_);
    bytes[1] = static_cast<std::uint8_t>(status_ >> 8);
    bytes[2] = static_cast<std::uint8_t>(enable_);
    bytes[3] = static_cast<std::uint8_t>(enable_ >> 8);
    bytes[4] = static_cast<std::uint8_t>(control_);
    bytes[5] = static_cast<std::uint8_t>(control_ >> 8);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = offset + i < kLength ? bytes[offset + i] : 0xff;
}

void AcpiPm1::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    for (std::size_t i = 0; i < data.size(); ++i) {
        std::size_t at = offset + i;
        std::uint16_t byte = data[i];
        switch (at) {
        case 0: status_ &= static_cast<std::uint16_t>(~byte); break;  // write-one-to-clear
        case 1: status_ &= static_cast<std::uint16_t>(~(byte << 8)); break;
        case 2: enable_ = static_cast<std::uint16_t>((enable_ & 0xff00) | byte); break;
        case 3: enable_ = static_cast<std::uint16_t>((enable_ & 0x00ff) | (byte << 8)); break;
        case 4: control_ = static_cast<std::uint16_t>((control_ & 0xff00) | byte); break;
        case 5: control_ = static_cast<std::uint16_t>((control_ & 0x00ff) | (byte << 8)); break;
        default: break;
        }
    }
    if (offset + data.size() <= 4) return;
    constexpr std::uint16_t kSleepEnable = 1u << 13;
    if (control_ & kSleepEnable) {
        unsigned type = (control_ >> 10) & 7;
        control_ &= static_cast<std::uint16_t>(~kSleepEnable);  // SLP_EN reads as zero
        if (type == s5_)
            stop_(ExitReason::power_off, "the guest powered off (ACPI S5)");
        else
            stop_(ExitReason::emulation_failure,
                  fmt::format("the guest asked for ACPI sleep type {}, only S5 (type {}) is supported", type, s5_));
    }
}

void I8042::read(std::uint64_t, std::span<std::uint8_t> data) {
    access_store(data, 0);  // no data, input buffer empty
}

void I8042::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    constexpr std::uint8_t kPulseReset = 0xfe;
    if (offset == 4 && !data.empty() && data[0] == kPulseReset)
        stop_(ExitReason::reset, "the guest asked for a reset (keyboard controller)");
}

} // namespace cvm
