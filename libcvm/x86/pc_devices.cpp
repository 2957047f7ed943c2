#include "libcvm/x86/pc_devices.hpp"

#include <linux/kvm.h>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/devices/i440fx_pci.hpp"
#include "libcvm/devices/mc146818_rtc.hpp"
#include "libcvm/devices/pc_system_control.hpp"
#include "libcvm/devices/piix4_pm.hpp"
#include "libcvm/devices/serial_16550.hpp"
#include "libcvm/x86/pc_machine.hpp"

namespace cvm::x86 {
namespace {

const op::DeviceRegion& port_range(const op::AddDevice& record, std::uint16_t length, const char* launcher) {
    if (record.regions.size() != 1 || record.regions[0].space != op::AddressSpace::pio ||
        record.regions[0].size != length || record.regions[0].base > 0xffffu - length)
        throw Error(fmt::format("{}: a {} device needs one range of {} I/O ports", launcher,
                                op::to_string(record.kind), length));
    return record.regions[0];
}

bool is_in_kernel(DeviceKind kind) { return kind == DeviceKind::x86_irqchip || kind == DeviceKind::x86_pit; }

} // namespace

void create_in_kernel_devices(const Vm& vm, const std::vector<const op::AddDevice*>& records, const char* launcher) {
    for (const auto* record : records) {
        if (record->kind == DeviceKind::x86_irqchip) {
            // KVM's IOAPIC and local APIC sit at the PC's addresses.
            if (record->regions.size() < 2 || record->regions[0].base != kIoApicAddress ||
                record->regions[1].base != kLocalApicAddress)
                throw Error(fmt::format("{}: KVM's in-kernel IOAPIC and local APIC are at {:#x} and {:#x} only",
                                        launcher, kIoApicAddress, kLocalApicAddress));
            vm.ioctl(KVM_CREATE_IRQCHIP, nullptr, "KVM_CREATE_IRQCHIP");
        } else if (record->kind == DeviceKind::x86_pit) {
            if (record->regions.size() != 1 || record->regions[0].base != 0x40)
                throw Error(fmt::format("{}: KVM's in-kernel PIT is at ports 0x40-0x43 only", launcher));
            kvm_pit_config pit{};
            pit.flags = KVM_PIT_SPEAKER_DUMMY;
            vm.ioctl(KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
        }
    }
}

PcDevices::PcDevices(const std::vector<const op::AddDevice*>& records, const Vm& vm, int console_fd,
                     StopLatch& latch, GuestRamView ram, const char* launcher) {
    auto stop = [&latch](ExitReason reason, std::string detail) { latch.request(reason, std::move(detail)); };
    for (const auto* record : records) {
        if (is_in_kernel(record->kind)) continue;
        switch (record->kind) {
        case DeviceKind::uart_16550: {
            const auto& r = port_range(*record, 8, launcher);
            if (!record->interrupt) throw Error(fmt::format("{}: the UART needs its IRQ", launcher));
            const std::uint32_t irq = *record->interrupt;
            auto uart = std::make_shared<Serial16550>(console_fd, [&vm, irq](bool level) { vm.irq_line(irq, level); });
            bus_.add(static_cast<std::uint16_t>(r.base), 8, *uart);
            owned_.push_back(uart);
            break;
        }
        case DeviceKind::i8042: {
            const auto& r = port_range(*record, I8042::kLength, launcher);
            auto i8042 = std::make_shared<I8042>(stop);
            bus_.add(static_cast<std::uint16_t>(r.base), I8042::kLength, *i8042);
            owned_.push_back(i8042);
            break;
        }
        case DeviceKind::acpi_pm1: {
            const auto& r = port_range(*record, AcpiPm1::kLength, launcher);
            auto pm1 = std::make_shared<AcpiPm1>(kS5SleepType, stop);
            bus_.add(static_cast<std::uint16_t>(r.base), AcpiPm1::kLength, *pm1);
            owned_.push_back(pm1);
            break;
        }
        case DeviceKind::rtc_mc146818: {
            const auto& r = port_range(*record, 2, launcher);
            auto rtc = std::make_shared<Mc146818Rtc>();
            bus_.add(r.base, 2, *rtc);
            owned_.push_back(rtc);
            break;
        }
        case DeviceKind::pci_i440fx: {
            const auto& r = port_range(*record, I440fxPciConfig::kLength, launcher);
            auto pci = std::make_shared<I440fxPciConfig>();
            bus_.add(r.base, I440fxPciConfig::kLength, *pci);
            owned_.push_back(pci);
            break;
        }
        case DeviceKind::acpi_pm_piix4: {
            // OVMF programs PMBA to 0xb000 and uses it there (PlatformInitLib).
            const auto& r = port_range(*record, Piix4Pm::kLength, launcher);
            if (r.base != kPiix4PmBase)
                throw Error(fmt::format("{}: the PIIX4 PM block is where OVMF programs it, at port {:#x}", launcher,
                                        kPiix4PmBase));
            auto pm = std::make_shared<Piix4Pm>(stop);
            bus_.add(r.base, Piix4Pm::kLength, *pm);
            owned_.push_back(pm);
            break;
        }
        case DeviceKind::fw_cfg_io: {
            const auto& r = port_range(*record, FwCfgIo::kPorts, launcher);
            struct FwCfgDevice {
                FwCfg fw_cfg{/*dma=*/true};
                FwCfgIo io;
                explicit FwCfgDevice(GuestRamView view) : io(fw_cfg, std::move(view)) {}
            };
            auto device = std::make_shared<FwCfgDevice>(ram);
            for (const auto& file : record->files) device->fw_cfg.add_named(file.name, file.data);
            bus_.add(r.base, FwCfgIo::kPorts, device->io);
            owned_.push_back(device);
            break;
        }
        default:
            throw Error(fmt::format("{} cannot provide a {} device", launcher, op::to_string(record->kind)));
        }
    }
}

} // namespace cvm::x86
