#include "libcvm/x86/pc_machine.hpp"

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/image.hpp"

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

namespace {

constexpr std::uint16_t kRtcPort = 0x70, kPciConfigPort = 0xcf8, kFwCfgPort = 0x510;
constexpr std::uint64_t kFourGiB = 1ull << 32;

Payload le_bytes(std::uint64_t value, std::size_t size, const char* name) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(value >> (8 * i));
    return Payload::from_bytes(std::move(bytes), name);
}

// QEMU's "etc/e820": packed {u64 address, u64 length, u32 type} entries,
// type 1 for RAM, which OVMF's MemDetect reads for the memory size.
Payload e820_file(std::uint64_t low, std::uint64_t high) {
    std::vector<std::uint8_t> bytes;
    auto entry = [&bytes](std::uint64_t base, std::uint64_t length) {
        for (std::uint64_t v : {base, length})
            for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        for (int i = 0; i < 4; ++i) bytes.push_back(i == 0 ? 1 : 0);
    };
    entry(0, low);
    if (high) entry(kFourGiB, high);
    return Payload::from_bytes(std::move(bytes), "etc/e820");
}

} // namespace

std::vector<op::AddDevice> pc_firmware_devices(const FirmwareBoot& boot) {
    std::vector<op::AddDevice> devices = pc_devices(boot.pit, /*acpi=*/false);
    devices.push_back({DeviceKind::rtc_mc146818, {{AddressSpace::pio, kRtcPort, 2}}, std::nullopt, {}});
    devices.push_back({DeviceKind::pci_i440fx, {{AddressSpace::pio, kPciConfigPort, 8}}, std::nullopt, {}});
    devices.push_back({DeviceKind::acpi_pm_piix4, {{AddressSpace::pio, kPiix4PmBase, 64}}, kSciIrq, {}});
    op::AddDevice fw_cfg{DeviceKind::fw_cfg_io, {{AddressSpace::pio, kFwCfgPort, 12}}, std::nullopt, {}};
    fw_cfg.files.push_back({"nb-cpus", le_bytes(boot.vcpus, 2, "nb-cpus")});
    fw_cfg.files.push_back({"etc/e820", e820_file(boot.low_ram, boot.high_ram)});
    if (boot.kernel) {
        // Split where QEMU splits it (hw/i386's x86_load_linux); a file that
        // is no bzImage goes whole as the "kernel".
        const std::size_t setup = bzimage_setup_size(boot.kernel->bytes());
        fw_cfg.files.push_back({"setup", boot.kernel->slice(0, setup)});
        fw_cfg.files.push_back({"kernel", boot.kernel->slice(setup, boot.kernel->size() - setup)});
        std::vector<std::uint8_t> cmdline(boot.cmdline.begin(), boot.cmdline.end());
        cmdline.push_back(0);
        fw_cfg.files.push_back({"cmdline", Payload::from_bytes(std::move(cmdline), "cmdline")});
        if (boot.initrd) fw_cfg.files.push_back({"initrd", *boot.initrd});
    }
    devices.push_back(std::move(fw_cfg));
    return devices;
}

} // namespace cvm::x86
