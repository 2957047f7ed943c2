#include "libcvm/devices/mmio_bus.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {

void MmioBus::add(std::uint64_t base, std::uint64_t length, PioDevice& device) {
    if (length == 0 || length > 0x10000 || base + length < base)
        throw Error(fmt::format("MMIO device at {:#x}: length {:#x} is not 1 to 64 KiB", base, length));
    claim(base, length, &device);
}

void MmioBus::add_empty(std::uint64_t base, std::uint64_t length) {
    if (length == 0 || base + length < base)
        throw Error(fmt::format("MMIO range at {:#x}: length {:#x} is empty or wraps", base, length));
    claim(base, length, nullptr);
}

void MmioBus::claim(std::uint64_t base, std::uint64_t length, PioDevice* device) {
    for (const auto& r : ranges_)
        if (base < r.base + r.length && r.base < base + length)
            throw Error(fmt::format("MMIO {:#x}+{:#x} overlaps a device at {:#x}+{:#x}", base, length, r.base,
                                    r.length));
    ranges_.push_back({base, length, device});
}

const MmioBus::Range* MmioBus::find(std::uint64_t address) const {
    for (const auto& r : ranges_)
        if (address >= r.base && address - r.base < r.length) return &r;
    return nullptr;
}

void MmioBus::read(std::uint64_t address, std::span<std::uint8_t> data) {
    std::lock_guard lock(mutex_);
    if (const Range* r = find(address); r && r->device) {
        r->device->read(static_cast<std::uint16_t>(address - r->base), data);
        return;
    }
    std::fill(data.begin(), data.end(), 0xff);
}

void MmioBus::write(std::uint64_t address, std::span<const std::uint8_t> data) {
    std::lock_guard lock(mutex_);
    if (const Range* r = find(address); r && r->device)
        r->device->write(static_cast<std::uint16_t>(address - r->base), data);
}

} // namespace cvm

namespace cvm {

void MmioBus::handle(const exits::Mmio& mmio) {
    if (mmio.write) write(mmio.address, mmio.data);
    else read(mmio.address, mmio.data);
}

} // namespace cvm
