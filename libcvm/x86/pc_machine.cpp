#include "libcvm/x86/pc_machine.hpp"

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::x86 {
namespace {

using op::AddressSpace;

constexpr std::uint16_t kSerialPort = 0x3f8;
constexpr std::uint32_t kSerialIrq = 4;
constexpr std::uint16_t kI8042Port = 0x60;
constexpr std::uint16_t kPm1Port = 0x600;  // PM1a_EVT_BLK (4 bytes), then PM1a_CNT_BLK (2)
constexpr std::uint32_t kSciIrq = 9;

} // namespace

std::vector<op::AddDevice> pc_devices(bool pit, bool acpi) {
    std::vector<op::AddDevice> devices{
        {DeviceKind::x86_irqchip, {{AddressSpace::mmio, kIoApicAddress, 0x1000},
                                   {AddressSpace::mmio, kLocalApicAddress, 0x1000},
                                   {AddressSpace::pio, 0x20, 2},
                                   {AddressSpace::pio, 0xa0, 2}}, std::nullopt},
    };
    if (pit) devices.push_back({DeviceKind::x86_pit, {{AddressSpace::pio, 0x40, 4}}, 0});
    devices.push_back({DeviceKind::i8042, {{AddressSpace::pio, kI8042Port, 5}}, std::nullopt});
    devices.push_back({DeviceKind::uart_16550, {{AddressSpace::pio, kSerialPort, 8}}, kSerialIrq});
    if (acpi) devices.push_back({DeviceKind::acpi_pm1, {{AddressSpace::pio, kPm1Port, 6}}, kSciIrq});
    return devices;
}

} // namespace cvm::x86
