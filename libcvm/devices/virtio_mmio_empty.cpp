#include "libcvm/devices/virtio_mmio_empty.hpp"

#include <algorithm>
#include <cstring>

namespace cvm {

void EmptyVirtioMmio::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    std::uint32_t v = 0;
    if (offset == 0x000) v = 0x74726976;  // MagicValue "virt"
    else if (offset == 0x004) v = 2;      // Version: virtio 1
    else if (offset == 0x00c) v = 0x554d4551;  // VendorID "QEMU", as QEMU's empty slots
    // 0x008 DeviceID 0: no device.
    std::memset(data.data(), 0, data.size());
    std::memcpy(data.data(), &v, std::min<std::size_t>(data.size(), sizeof v));
}

} // namespace cvm
