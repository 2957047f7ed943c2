// A 16550A UART, enough for Linux's 8250 driver and for polled output:
// transmit is instantaneous (the line is never busy), there is no receive
// path, and the THR-empty interrupt is raised on the IRQ line the owner wires.
// Byte-wide registers at consecutive offsets (reg-shift 0), so the same
// device serves a PC's I/O ports and an arm64 or riscv64 machine's MMIO (both a Bus).
#pragma once

#include <cstdint>
#include <functional>

#include "libcvm/devices/bus.hpp"

namespace cvm {

class Serial16550 final : public BusDevice {
public:
    using IrqLine = std::function<void(bool level)>;
    Serial16550(int output_fd, IrqLine irq);
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    std::uint8_t interrupt_id() const;
    void update_irq();
    void emit(std::uint8_t byte);

    int output_fd_;
    IrqLine irq_;
    bool irq_level_ = false;
    bool thr_empty_pending_ = false;
    std::uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, fcr_ = 0;
    std::uint8_t dll_ = 0x0c, dlm_ = 0;  // 9600 baud, what firmware leaves behind
};

} // namespace cvm
