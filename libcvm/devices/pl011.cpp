#include "libcvm/devices/pl011.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "libcvm/devices/primecell.hpp"

namespace cvm {
namespace {

// Register offsets and bits (ARM DDI 0183G, 3.2 and 3.3).
constexpr std::uint16_t kDr = 0x000, kFr = 0x018, kIbrd = 0x024, kFbrd = 0x028, kLcrH = 0x02c, kCr = 0x030,
                        kIfls = 0x034, kImsc = 0x038, kRis = 0x03c, kMis = 0x040, kIcr = 0x044, kDmacr = 0x048;
constexpr std::uint32_t kFrTxfe = 1u << 7, kFrRxfe = 1u << 4;
constexpr std::uint32_t kIntTx = 1u << 5;
constexpr std::uint32_t kPeriphId = 0x00141011;  // PL011 r1p5

std::uint32_t value_of(std::span<const std::uint8_t> data) {
    std::uint32_t v = 0;
    std::memcpy(&v, data.data(), std::min<std::size_t>(data.size(), sizeof v));
    return v;
}

void answer(std::span<std::uint8_t> data, std::uint32_t v) {
    std::memset(data.data(), 0, data.size());
    std::memcpy(data.data(), &v, std::min<std::size_t>(data.size(), sizeof v));
}

} // namespace

Pl011::Pl011(int output_fd, IrqLine irq) : output_fd_(output_fd), irq_(std::move(irq)) {}

void Pl011::update_irq() {
    const bool level = (raw_ & mask_) != 0;
    if (level != level_ && irq_) irq_(level);
    level_ = level;
}

void Pl011::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    if (auto id = primecell_id(kPeriphId, offset)) return answer(data, *id);
    switch (offset) {
    case kFr: return answer(data, kFrTxfe | kFrRxfe);  // transmit FIFO empty, nothing received
    case kIbrd: return answer(data, ibrd_);
    case kFbrd: return answer(data, fbrd_);
    case kLcrH: return answer(data, lcr_h_);
    case kCr: return answer(data, cr_);
    case kIfls: return answer(data, ifls_);
    case kImsc: return answer(data, mask_);
    case kRis: return answer(data, raw_);
    case kMis: return answer(data, raw_ & mask_);
    case kDmacr: return answer(data, dmacr_);
    default: return answer(data, 0);  // DR: no data; reserved registers read zero
    }
}

void Pl011::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    const std::uint32_t v = value_of(data);
    switch (offset) {
    case kDr: {
        const auto c = static_cast<char>(v);
        if (output_fd_ >= 0 && ::write(output_fd_, &c, 1) < 0) {
            // A closed console loses output; the guest goes on.
        }
        raw_ |= kIntTx;
        break;
    }
    case kIbrd: ibrd_ = v & 0xffff; break;
    case kFbrd: fbrd_ = v & 0x3f; break;
    case kLcrH: lcr_h_ = v & 0xff; break;
    case kCr: cr_ = v & 0xffff; break;
    case kIfls: ifls_ = v & 0x3f; break;
    case kImsc: mask_ = v & 0x7ff; break;
    case kIcr: raw_ &= ~v; break;
    case kDmacr: dmacr_ = v & 0x7; break;
    default: break;
    }
    update_irq();
}

} // namespace cvm
