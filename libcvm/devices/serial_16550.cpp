#include "libcvm/devices/serial_16550.hpp"

#include <cerrno>
#include <unistd.h>

namespace cvm {
namespace {

enum Register : std::uint16_t { kData = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };
constexpr std::uint8_t kLcrDlab = 0x80;
constexpr std::uint8_t kIerThri = 0x02;
constexpr std::uint8_t kIirNone = 0x01;
constexpr std::uint8_t kIirThri = 0x02;
constexpr std::uint8_t kIirFifos = 0xc0;
constexpr std::uint8_t kLsrIdle = 0x60;  // THR empty, transmitter empty
constexpr std::uint8_t kMcrLoop = 0x10;

} // namespace

Serial16550::Serial16550(int output_fd, IrqLine irq) : output_fd_(output_fd), irq_(std::move(irq)) {}

std::uint8_t Serial16550::interrupt_id() const {
    std::uint8_t fifo = (fcr_ & 1) ? kIirFifos : 0;
    if ((ier_ & kIerThri) && thr_empty_pending_) return fifo | kIirThri;
    return fifo | kIirNone;
}

void Serial16550::update_irq() {
    // OUT2 gates the interrupt output on PC serial ports.
    bool level = (interrupt_id() & kIirNone) == 0 && (mcr_ & 0x08);
    if (level != irq_level_ && irq_) {
        irq_level_ = level;
        irq_(level);
    }
}

void Serial16550::emit(std::uint8_t byte) {
    if (output_fd_ < 0) return;
    while (::write(output_fd_, &byte, 1) < 0 && errno == EINTR) {
    }
}

void Serial16550::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    std::uint8_t value = 0;
    switch (offset) {
    case kData: value = (lcr_ & kLcrDlab) ? dll_ : 0; break;
    case kIer: value = (lcr_ & kLcrDlab) ? dlm_ : ier_; break;
    case kIirFcr:
        value = interrupt_id();
        // Reading IIR while it reports THR-empty acknowledges that interrupt.
        if ((value & 0x0f) == kIirThri) thr_empty_pending_ = false;
        break;
    case kLcr: value = lcr_; break;
    case kMcr: value = mcr_; break;
    case kLsr: value = kLsrIdle; break;
    case kMsr:
        if (mcr_ & kMcrLoop) {
            // Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD; Linux's
            // probe checks exactly this before it trusts the port.
            value = static_cast<std::uint8_t>(((mcr_ & 0x02) << 3) | ((mcr_ & 0x01) << 5) |
                                              ((mcr_ & 0x04) << 4) | ((mcr_ & 0x08) << 4));
        } else {
            value = 0xb0;  // DCD, DSR, CTS: a terminal is attached and ready
        }
        break;
    case kScr: value = scr_; break;
    default: break;
    }
    access_store(data, value);
    update_irq();
}

void Serial16550::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    auto value = static_cast<std::uint8_t>(access_value(data));
    switch (offset) {
    case kData:
        if (lcr_ & kLcrDlab) {
            dll_ = value;
        } else {
            if (!(mcr_ & kMcrLoop)) emit(value);
            thr_empty_pending_ = true;  // sent at once: THR is empty again
        }
        break;
    case kIer:
        if (lcr_ & kLcrDlab) {
            dlm_ = value;
        } else {
            bool enabling_thri = !(ier_ & kIerThri) && (value & kIerThri);
            ier_ = value & 0x0f;
            if (enabling_thri) thr_empty_pending_ = true;
        }
        break;
    case kIirFcr: fcr_ = value; break;
    case kLcr: lcr_ = value; break;
    case kMcr: mcr_ = value & 0x1f; break;
    case kScr: scr_ = value; break;
    default: break;  // LSR and MSR are read-only
    }
    update_irq();
}

} // namespace cvm
