#include "libcvm/devices/i440fx_pci.hpp"

#include <algorithm>

namespace cvm {
namespace {

constexpr std::uint16_t kHostBridge = 0 << 3 | 0, kIsaBridge = 1 << 3 | 0, kPowerManagement = 1 << 3 | 3;
constexpr std::uint32_t kEnable = 1u << 31;
constexpr std::uint8_t kPmba = 0x40, kPmRegMisc = 0x80;

void put16(std::array<std::uint8_t, 256>& b, std::size_t at, std::uint16_t v) {
    b[at] = static_cast<std::uint8_t>(v);
    b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}

} // namespace

I440fxPciConfig::I440fxPciConfig() {
    // Vendor, device, class code (base, sub, interface at 0x0b, 0x0a, 0x09),
    // header type; the command register's I/O and memory enables and the
    // interrupt line are writable everywhere, as firmware sets them.
    auto make = [this](std::uint16_t at, std::uint16_t device, std::uint8_t base_class, std::uint8_t sub_class,
                       std::uint8_t header) -> Function& {
        Function& f = functions_[at];
        put16(f.bytes, 0x00, 0x8086);
        put16(f.bytes, 0x02, device);
        f.bytes[0x0b] = base_class;
        f.bytes[0x0a] = sub_class;
        f.bytes[0x0e] = header;
        f.writable[0x04] = 0x07;
        f.writable[0x3c] = 0xff;
        return f;
    };
    make(kHostBridge, 0x1237, 0x06, 0x00, 0x00);
    Function& isa = make(kIsaBridge, 0x7000, 0x06, 0x01, 0x80);  // multi-function: 1.3 exists
    for (std::size_t r = 0x60; r < 0x64; ++r) {
        isa.bytes[r] = 0x80;  // PIRQ routing disabled at reset
        isa.writable[r] = 0x8f;
    }
    Function& pm = make(kPowerManagement, 0x7113, 0x06, 0x80, 0x00);
    pm.bytes[kPmba] = 0x01;  // bit 0 reads as one: an I/O space indicator
    pm.writable[kPmba] = 0xc0;
    pm.writable[kPmba + 1] = 0xff;
    pm.writable[kPmRegMisc] = 0x01;
}

I440fxPciConfig::Function* I440fxPciConfig::selected() {
    if (!(address_ & kEnable) || ((address_ >> 16) & 0xff) != 0) return nullptr;  // bus 0 only
    auto it = functions_.find(static_cast<std::uint16_t>((address_ >> 8) & 0xff));
    return it == functions_.end() ? nullptr : &it->second;
}

void I440fxPciConfig::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    if (offset == 0 && data.size() == 4) {
        for (std::size_t i = 0; i < 4; ++i) data[i] = static_cast<std::uint8_t>(address_ >> (8 * i));
        return;
    }
    std::fill(data.begin(), data.end(), 0xff);
    Function* f = offset >= 4 ? selected() : nullptr;
    if (!f) return;
    const std::size_t reg = (address_ & 0xfc) + (offset - 4);
    for (std::size_t i = 0; i < data.size() && reg + i < 256; ++i) data[i] = f->bytes[reg + i];
}

void I440fxPciConfig::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    if (offset == 0 && data.size() == 4) {
        address_ = 0;
        for (std::size_t i = 0; i < 4; ++i) address_ |= std::uint32_t{data[i]} << (8 * i);
        return;
    }
    Function* f = offset >= 4 ? selected() : nullptr;
    if (!f) return;
    const std::size_t reg = (address_ & 0xfc) + (offset - 4);
    for (std::size_t i = 0; i < data.size() && reg + i < 256; ++i) {
        const std::uint8_t mask = f->writable[reg + i];
        f->bytes[reg + i] = static_cast<std::uint8_t>((f->bytes[reg + i] & ~mask) | (data[i] & mask));
    }
}

} // namespace cvm
