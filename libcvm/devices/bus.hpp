// One address space's devices: the port I/O bus of the PC machines and the
// MMIO bus of every machine are the same class. Devices claim ranges and see
// accesses at an offset from their base; an access where nothing is reads
// as all ones and drops writes, as on a bus with no device there. Accesses
// are serialized, so devices need not lock themselves.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "libcvm/kvm/vcpu_exit.hpp"

namespace cvm {

class BusDevice {
public:
    virtual ~BusDevice() = default;
    // `data` is 1 to 8 bytes (a port access: 1, 2 or 4).
    virtual void read(std::uint64_t offset, std::span<std::uint8_t> data) = 0;
    virtual void write(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;
};

class Bus {
public:
    // `space` names the addresses in errors: "I/O ports" or "MMIO".
    explicit Bus(std::string space) : space_(std::move(space)) {}
    void add(std::uint64_t base, std::uint64_t length, BusDevice& device);
    // A range the machine declares with nothing behind it (the configuration
    // space of an empty PCI bus): reads all ones, drops writes, and no
    // device may overlap it.
    void add_empty(std::uint64_t base, std::uint64_t length);
    void read(std::uint64_t address, std::span<std::uint8_t> data);
    void write(std::uint64_t address, std::span<const std::uint8_t> data);
    // Every access of a port I/O exit, in order (a string instruction has
    // several), or the one of an MMIO exit.
    void handle(const exits::PortIo& io);
    void handle(const exits::Mmio& mmio);

private:
    struct Range {
        std::uint64_t base;
        std::uint64_t length;
        BusDevice* device;  // null: declared empty
    };
    void claim(std::uint64_t base, std::uint64_t length, BusDevice* device);
    const Range* find(std::uint64_t address) const;
    std::string space_;
    std::vector<Range> ranges_;
    std::mutex mutex_;
};

// A little-endian value from a 1-, 2- or 4-byte access, and the reverse.
std::uint32_t access_value(std::span<const std::uint8_t> data);
void access_store(std::span<std::uint8_t> data, std::uint32_t value);

} // namespace cvm
