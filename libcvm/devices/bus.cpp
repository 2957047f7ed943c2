#include "libcvm/devices/bus.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {

void Bus::add(std::uint64_t base, std::uint64_t length, BusDevice& device) { claim(base, length, &device); }

void Bus::add_empty(std::uint64_t base, std::uint64_t length) { claim(base, length, nullptr); }

void Bus::claim(std::uint64_t base, std::uint64_t length, BusDevice* device) {
    if (length == 0 || base + length < base)
        throw Error(fmt::format("{} {:#x}: length {:#x} is empty or wraps", space_, base, length));
    for (const auto& r : ranges_)
        if (base < r.base + r.length && r.base < base + length)
            throw Error(fmt::format("{} {:#x}+{:#x} overlap a device at {:#x}+{:#x}", space_, base, length, r.base,
                                    r.length));
    ranges_.push_back({base, length, device});
}

const Bus::Range* Bus::find(std::uint64_t address) const {
    for (const auto& r : ranges_)
        if (address >= r.base && address - r.base < r.length) return &r;
    return nullptr;
}

void Bus::read(std::uint64_t address, std::span<std::uint8_t> data) {
    std::lock_guard lock(mutex_);
    if (const Range* r = find(address); r && r->device) {
        r->device->read(address - r->base, data);
        return;
    }
    std::fill(data.begin(), data.end(), 0xff);
}

void Bus::write(std::uint64_t address, std::span<const std::uint8_t> data) {
    std::lock_guard lock(mutex_);
    if (const Range* r = find(address); r && r->device) r->device->write(address - r->base, data);
}

void Bus::handle(const exits::PortIo& io) {
    for (std::uint32_t i = 0; i < io.count; ++i) {
        if (io.write) write(io.port, io.access(i));
        else read(io.port, io.access(i));
    }
}

void Bus::handle(const exits::Mmio& mmio) {
    if (mmio.write) write(mmio.address, mmio.data);
    else read(mmio.address, mmio.data);
}

std::uint32_t access_value(std::span<const std::uint8_t> data) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < data.size() && i < 4; ++i) value |= std::uint32_t{data[i]} << (8 * i);
    return value;
}

void access_store(std::span<std::uint8_t> data, std::uint32_t value) {
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = i < 4 ? static_cast<std::uint8_t>(value >> (8 * i)) : 0;
}

} // namespace cvm
