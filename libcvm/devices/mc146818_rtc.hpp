// A Motorola MC146818 real-time clock with its CMOS RAM, as kvmtool
// places it (hw/rtc.c): an index register at offset 0 and a data register
// at offset 1. The time registers read the host's UTC time in BCD, 24-hour
// mode, never "update in progress"; the other bytes are RAM. No interrupts.
#pragma once

#include <array>
#include <cstdint>

#include "libcvm/devices/bus.hpp"

namespace cvm {

class Mc146818Rtc final : public BusDevice {
public:
    Mc146818Rtc();
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    std::uint8_t index_ = 0;
    std::array<std::uint8_t, 128> ram_{};
};

} // namespace cvm
