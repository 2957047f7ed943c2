// Port I/O dispatch: devices claim port ranges; accesses to unclaimed ports
// read as all ones and writes are dropped, as on a PC bus with nothing there.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "libcvm/kvm/vcpu_exit.hpp"

namespace cvm {

class PioDevice {
public:
    virtual ~PioDevice() = default;
    // `offset` is relative to the device's base port; `data` is 1, 2 or 4 bytes.
    virtual void read(std::uint16_t offset, std::span<std::uint8_t> data) = 0;
    virtual void write(std::uint16_t offset, std::span<const std::uint8_t> data) = 0;
};

class PioBus {
public:
    void add(std::uint16_t base, std::uint16_t length, PioDevice& device);
    // Serialized: devices need not lock themselves.
    void read(std::uint16_t port, std::span<std::uint8_t> data);
    void write(std::uint16_t port, std::span<const std::uint8_t> data);
    // Every access of a port I/O exit, in order (a string instruction has several).
    void handle(const exits::PortIo& io);

private:
    struct Range {
        std::uint16_t base;
        std::uint16_t length;
        PioDevice* device;
    };
    const Range* find(std::uint16_t port) const;
    std::vector<Range> ranges_;
    std::mutex mutex_;
};

// Assembles a little-endian value from a 1-, 2- or 4-byte access.
std::uint32_t pio_value(std::span<const std::uint8_t> data);
void pio_store(std::span<std::uint8_t> data, std::uint32_t value);

} // namespace cvm
