#include "libcvm/arm64/mmio_devices.hpp"

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/devices/fw_cfg.hpp"
#include "libcvm/devices/mc146818_rtc.hpp"
#include "libcvm/devices/pl011.hpp"
#include "libcvm/devices/pl031.hpp"
#include "libcvm/devices/serial_16550.hpp"
#include "libcvm/devices/virtio_mmio_empty.hpp"

namespace cvm::arm64 {
namespace {

const op::DeviceRegion& one_region(const op::AddDevice& record, const char* launcher) {
    if (record.regions.size() != 1 || record.regions[0].space != op::AddressSpace::mmio)
        throw Error(fmt::format("{}: a {} device needs exactly one MMIO range", launcher, op::to_string(record.kind)));
    return record.regions[0];
}

std::uint32_t needed_interrupt(const op::AddDevice& record, const char* launcher) {
    if (!record.interrupt)
        throw Error(fmt::format("{}: a {} device needs its interrupt", launcher, op::to_string(record.kind)));
    return *record.interrupt;
}

// An fw_cfg and its MMIO front-end, owned together.
struct FwCfgDevice {
    FwCfg fw_cfg;
    FwCfgMmio mmio{fw_cfg};
};

} // namespace

bool is_mmio_device(DeviceKind kind) {
    switch (kind) {
    case DeviceKind::uart_16550:
    case DeviceKind::uart_pl011:
    case DeviceKind::rtc_pl031:
    case DeviceKind::rtc_mc146818:
    case DeviceKind::pci_ecam_host:
    case DeviceKind::virtio_mmio:
    case DeviceKind::fw_cfg_mmio: return true;
    default: return false;
    }
}

MmioDevices::MmioDevices(const std::vector<const op::AddDevice*>& records, const Vm& vm, int console_fd,
                         const char* launcher) {
    auto irq = [&vm](std::uint32_t spi) {
        const std::uint32_t line = spi_irq_line(spi);
        return [&vm, line](bool level) { vm.irq_line(line, level); };
    };
    for (const auto* record : records) {
        switch (record->kind) {
        case DeviceKind::uart_16550: {
            const auto& r = one_region(*record, launcher);
            auto uart = std::make_shared<Serial16550>(console_fd, irq(needed_interrupt(*record, launcher)));
            bus_.add(r.base, r.size, *uart);
            owned_.push_back(uart);
            break;
        }
        case DeviceKind::uart_pl011: {
            const auto& r = one_region(*record, launcher);
            auto uart = std::make_shared<Pl011>(console_fd, irq(needed_interrupt(*record, launcher)));
            bus_.add(r.base, r.size, *uart);
            owned_.push_back(uart);
            break;
        }
        case DeviceKind::rtc_pl031: {
            const auto& r = one_region(*record, launcher);
            auto rtc = std::make_shared<Pl031>();
            bus_.add(r.base, r.size, *rtc);
            owned_.push_back(rtc);
            break;
        }
        case DeviceKind::rtc_mc146818: {
            const auto& r = one_region(*record, launcher);
            auto rtc = std::make_shared<Mc146818Rtc>();
            bus_.add(r.base, r.size, *rtc);
            owned_.push_back(rtc);
            break;
        }
        case DeviceKind::fw_cfg_mmio: {
            const auto& r = one_region(*record, launcher);
            auto fw_cfg = std::make_shared<FwCfgDevice>();
            bus_.add(r.base, r.size, fw_cfg->mmio);
            owned_.push_back(fw_cfg);
            break;
        }
        case DeviceKind::virtio_mmio: {
            const auto& r = one_region(*record, launcher);
            auto slot = std::make_shared<EmptyVirtioMmio>();
            bus_.add(r.base, r.size, *slot);
            owned_.push_back(slot);
            break;
        }
        case DeviceKind::pci_ecam_host:
            // An empty bus: every function's configuration space reads all
            // ones, and no BAR is ever placed in the windows.
            if (record->regions.empty()) throw Error(fmt::format("{}: a PCI host without its ECAM", launcher));
            for (const auto& r : record->regions) bus_.add_empty(r.base, r.size);
            break;
        case DeviceKind::gic_v3:
        case DeviceKind::gic_v3_its:
            throw Error(fmt::format("{}: the {} is KVM's, not an MMIO bus device", launcher,
                                    op::to_string(record->kind)));
        case DeviceKind::x86_irqchip:
        case DeviceKind::x86_pit:
        case DeviceKind::i8042:
        case DeviceKind::acpi_pm1:
        case DeviceKind::fw_cfg_io:
        case DeviceKind::pci_i440fx:
        case DeviceKind::acpi_pm_piix4:
        case DeviceKind::riscv_imsic:
            throw Error(fmt::format("{}: a {} is not a device of an arm64 machine", launcher,
                                    op::to_string(record->kind)));
        }
    }
}

} // namespace cvm::arm64
