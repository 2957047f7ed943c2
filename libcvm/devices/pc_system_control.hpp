// The PC's ways out of a running guest that a VMM can see:
//  - the ACPI PM1a event and control blocks (fixed hardware, non-reduced
//    ACPI), where an S5 sleep request is a power-off;
//  - the i8042 keyboard controller's pulse-reset command (0xfe on port 0x64),
//    which Linux uses with reboot=k.
// A guest halting with interrupts off is invisible with an in-kernel irqchip,
// so these are what let cvm-launch notice that the guest has finished.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cvm/backend.hpp"
#include "libcvm/devices/bus.hpp"

namespace cvm {

using StopCallback = std::function<void(ExitReason, std::string)>;

class AcpiPm1 final : public BusDevice {
public:
    // Ports: [0, 4) PM1a_EVT_BLK (status, enable), [4, 6) PM1a_CNT_BLK.
    static constexpr std::uint16_t kLength = 6;
    AcpiPm1(std::uint8_t s5_sleep_type, StopCallback stop);
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    std::uint8_t s5_;
    StopCallback stop_;
    std::uint16_t status_ = 0, enable_ = 0;
    std::uint16_t control_ = 1;  // SCI_EN: the machine is in ACPI mode from the start
};

class I8042 final : public BusDevice {
public:
    // Ports 0x60 (data, offset 0) and 0x64 (status/command, offset 4).
    static constexpr std::uint16_t kLength = 5;
    explicit I8042(StopCallback stop) : stop_(std::move(stop)) {}
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    StopCallback stop_;
};

} // namespace cvm
