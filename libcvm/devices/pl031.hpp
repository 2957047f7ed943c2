// An Arm PL031 real-time clock (ARM DDI 0224): the data register counts
// the host's seconds since the epoch plus whatever offset the guest's load
// register set. No alarm interrupt: the match register is kept, never fired.
#pragma once

#include <cstdint>

#include "libcvm/devices/bus.hpp"

namespace cvm {

class Pl031 final : public BusDevice {
public:
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    std::int64_t offset_ = 0;  // guest time - host time, seconds
    std::uint32_t match_ = 0, mask_ = 0;
};

} // namespace cvm
