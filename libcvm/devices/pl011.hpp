// An Arm PL011 UART (ARM DDI 0183) as a console: what the guest transmits
// goes to the console fd, nothing is ever received. The transmit interrupt
// follows QEMU's model: every byte written raises TXRIS, ICR clears it, and
// the line is (raw status & mask) != 0 — Linux's driver sends by interrupt
// once its first bytes are out.
#pragma once

#include <functional>

#include "libcvm/devices/bus.hpp"

namespace cvm {

class Pl011 final : public BusDevice {
public:
    using IrqLine = std::function<void(bool level)>;
    Pl011(int output_fd, IrqLine irq);
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    void update_irq();

    int output_fd_;
    IrqLine irq_;
    bool level_ = false;
    std::uint32_t raw_ = 0;   // UARTRIS
    std::uint32_t mask_ = 0;  // UARTIMSC
    std::uint32_t ibrd_ = 0, fbrd_ = 0, lcr_h_ = 0, cr_ = 0x300, ifls_ = 0x12, dmacr_ = 0;
};

} // namespace cvm
