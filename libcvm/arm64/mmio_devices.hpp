// The MMIO devices of libcvm's arm64 machines, made from the plan's device
// records and placed on one bus: the 16550 and PL011 UARTs (the console),
// the PL031 and MC146818 clocks, an fw_cfg with no files, empty virtio-mmio
// slots and an empty PCI host. Shared by the plain arm64 and arm-cca
// launchers; the GIC and ITS are KVM's (vgic.hpp).
#pragma once

#include <memory>
#include <vector>

#include "cvm/plan.hpp"
#include "libcvm/devices/bus.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::arm64 {

class MmioDevices {
public:
    // `console_fd` receives what the UARTs transmit; interrupts are raised
    // on `vm` with KVM_IRQ_LINE (SPIs). Throws for a record the launcher
    // cannot provide (`launcher` names it) or that does not fit its kind.
    MmioDevices(const std::vector<const op::AddDevice*>& records, const Vm& vm, int console_fd,
                const char* launcher);
    Bus& bus() { return bus_; }

private:
    std::vector<std::shared_ptr<void>> owned_;  // the devices, alive as long as the bus
    Bus bus_{"MMIO"};
};

// A record the bus devices cover (everything but the GIC and ITS).
bool is_mmio_device(DeviceKind kind);

// The KVM_IRQ_LINE number of a GIC SPI (0-based, INTID 32 + spi):
// KVM_ARM_IRQ_TYPE_SPI (1) << KVM_ARM_IRQ_TYPE_SHIFT (24) | INTID.
inline constexpr std::uint32_t spi_irq_line(std::uint32_t spi) { return (1u << 24) | (32u + spi); }

} // namespace cvm::arm64
