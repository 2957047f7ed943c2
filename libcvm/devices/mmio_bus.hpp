// MMIO dispatch for devices emulated in the VMM: the same register devices
// as the port I/O bus (a 16550 is the same chip behind either), claimed at
// guest-physical ranges. Unclaimed addresses read as all ones and writes are
// dropped, as on a bus with nothing there.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "libcvm/devices/pio_bus.hpp"

namespace cvm {

class MmioBus {
public:
    // `length` is at most 64 KiB: device offsets are 16-bit.
    void add(std::uint64_t base, std::uint64_t length, PioDevice& device);
    // A range the machine declares with nothing behind it (the configuration
    // space of an empty PCI bus): it reads all ones and drops writes, as an
    // unclaimed address does, but no device may overlap it. Any length.
    void add_empty(std::uint64_t base, std::uint64_t length);
    // Serialized: devices need not lock themselves.
    void read(std::uint64_t address, std::span<std::uint8_t> data);
    void write(std::uint64_t address, std::span<const std::uint8_t> data);
    // The access of an MMIO exit.
    void handle(const exits::Mmio& mmio);

private:
    struct Range {
        std::uint64_t base;
        std::uint64_t length;
        PioDevice* device;
    };
    const Range* find(std::uint64_t address) const;
    void claim(std::uint64_t base, std::uint64_t length, PioDevice* device);
    std::vector<Range> ranges_;
    std::mutex mutex_;
};

} // namespace cvm
