// The launch side of libcvm's PC machine (pc_machine.hpp): the device
// records made real. KVM's irqchip and PIT are created in the kernel (their
// records must be at the addresses KVM implements); the i8042, the UART and
// the PM1 blocks, and a firmware's RTC, PCI configuration ports, PIIX4 PM
// block and fw_cfg go on one PIO bus, the reset and power-off requests into
// the machine's StopLatch. A record of any other kind, or at another place,
// is refused. x86 hosts only.
#pragma once

#include <memory>
#include <vector>

#include "cvm/plan.hpp"
#include "libcvm/devices/bus.hpp"
#include "libcvm/devices/fw_cfg.hpp"
#include "libcvm/devices/stop_latch.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm::x86 {

// KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2 for those records (after the
// memory slots: with an irqchip, every slot update waits for an SRCU grace
// period). Call once, before the vCPUs.
void create_in_kernel_devices(const Vm& vm, const std::vector<const op::AddDevice*>& records, const char* launcher);

class PcDevices {
public:
    // `ram`: guest RAM as fw_cfg's DMA reaches it.
    PcDevices(const std::vector<const op::AddDevice*>& records, const Vm& vm, int console_fd, StopLatch& latch,
              GuestRamView ram, const char* launcher);
    Bus& bus() { return bus_; }

private:
    std::vector<std::shared_ptr<void>> owned_;  // the devices, alive as long as the bus
    Bus bus_{"I/O ports"};
};

} // namespace cvm::x86
