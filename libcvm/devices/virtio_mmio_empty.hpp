// A virtio-mmio transport with no device behind it, as QEMU virt leaves its
// unused slots (virtio spec 1.2, 4.2.2): the magic value, version 2 and
// device ID 0, which a driver takes as "nothing here". Every other register
// reads zero and writes are dropped.
#pragma once

#include "libcvm/devices/bus.hpp"

namespace cvm {

class EmptyVirtioMmio final : public BusDevice {
public:
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t, std::span<const std::uint8_t>) override {}
};

} // namespace cvm
