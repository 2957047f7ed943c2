// The PIIX4 power management I/O block as OVMF and Linux use it (hw/acpi/
// piix4.c in QEMU; edk2 AcpiTimerLib and ResetSystemLib): the PM1a event and
// control registers at 0-5, where SLP_EN with sleep type 0 is S5 (QEMU's
// PIIX4 DSDT and OVMF's shutdown both write type 0), and the 24-bit ACPI PM
// timer at 8, counting at 3.579545 MHz from the host's monotonic clock,
// which OVMF uses for every delay. The PC maps it at 0xb000, where OVMF
// programs PMBA; reads elsewhere in the 64 ports give zero.
#pragma once

#include <chrono>

#include "libcvm/devices/pc_system_control.hpp"

namespace cvm {

class Piix4Pm final : public BusDevice {
public:
    static constexpr std::uint64_t kLength = 64;
    static constexpr std::uint8_t kS5SleepType = 0;
    explicit Piix4Pm(StopCallback stop) : pm1_(kS5SleepType, std::move(stop)) {}
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    AcpiPm1 pm1_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

} // namespace cvm
