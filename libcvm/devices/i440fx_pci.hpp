// PCI configuration mechanism #1 (address port 0xcf8, data ports 0xcfc-0xcff)
// of an i440FX PC, with the functions OVMF's platform code reads and
// programs (edk2 OvmfPkg: PlatformInitLib's host bridge check and PIIX4
// set-up, AcpiTimerLib, ResetSystemLib; SioBusDxe binds COM1 and the
// keyboard to the ISA bridge; the IDs are QEMU's, hw/pci-host/i440fx.c,
// hw/isa/piix.c, hw/acpi/piix4.c):
//   0:0.0  host bridge          8086:1237
//   0:1.0  PIIX3 ISA bridge     8086:7000  PIRQ routing 0x60-0x63
//   0:1.3  PIIX4 power mgmt     8086:7113  PMBA 0x40, PMREGMISC 0x80
// Every other function reads as absent (all ones). None has a BAR: the
// devices behind them sit at the PC's fixed ports (the PM block at the
// 0xb000 OVMF programs, piix4_pm.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include "libcvm/devices/bus.hpp"

namespace cvm {

class I440fxPciConfig final : public BusDevice {
public:
    static constexpr std::uint64_t kLength = 8;  // 0xcf8-0xcff
    I440fxPciConfig();
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    struct Function {
        std::array<std::uint8_t, 256> bytes{};
        std::array<std::uint8_t, 256> writable{};  // per byte: the bits the guest may change
    };
    // The function the address register selects, or null (absent or disabled).
    Function* selected();

    std::map<std::uint16_t, Function> functions_;  // by device << 3 | function, bus 0
    std::uint32_t address_ = 0;
};

} // namespace cvm
