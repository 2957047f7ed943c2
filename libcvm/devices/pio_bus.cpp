#include "libcvm/devices/pio_bus.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {

void PioBus::add(std::uint16_t base, std::uint16_t length, PioDevice& device) {
    for (const auto& r : ranges_)
        if (base < r.base + r.length && r.base < base + length)
            throw Error(fmt::format("I/O ports {:#x}+{} overlap a device at {:#x}+{}", base, length, r.base, r.length));
    ranges_.push_back({base, length, &device});
}

const PioBus::Range* PioBus::find(std::uint16_t port) const {
    for (const auto& r : ranges_)
        if (port >= r.base && port < r.base + r.length) return &r;
    return nullptr;
}

void PioBus::read(std::uint16_t port, std::span<std::uint8_t> data) {
    std::lock_guard lock(mutex_);
    if (const Range* r = find(port)) {
        r->device->read(static_cast<std::uint16_t>(port - r->base), data);
        return;
    }
    std::fill(data.begin(), data.end(), 0xff);
}

void PioBus::write(std::uint16_t port, std::span<const std::uint8_t> data) {
    std::lock_guard lock(mutex_);
    if (const Range* r = find(port)) r->device->write(static_cast<std::uint16_t>(port - r->base), data);
}

std::uint32_t pio_value(std::span<const std::uint8_t> data) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < data.size() && i < 4; ++i) value |= std::uint32_t{data[i]} << (8 * i);
    return value;
}

void pio_store(std::span<std::uint8_t> data, std::uint32_t value) {
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = i < 4 ? static_cast<std::uint8_t>(value >> (8 * i)) : 0;
}

} // namespace cvm

namespace cvm {

void PioBus::handle(const exits::PortIo& io) {
    for (std::uint32_t i = 0; i < io.count; ++i) {
        if (io.write) write(io.port, io.access(i));
        else read(io.port, io.access(i));
    }
}

} // namespace cvm
