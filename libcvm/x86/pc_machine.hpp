// libcvm's PC machine: the devices of the plain x86 guest (and, for their
// console and reset, of SEV guests), as device records. Built on every host:
// planners and the ACPI generator read the records; the launcher side is
// pc_devices.hpp (x86 hosts).
//
//   ports 0x20/0xa0, 0xfec00000, 0xfee00000  KVM's PICs, IOAPIC, local APICs
//   ports 0x40-0x43                          KVM's i8254 (PIT)
//   ports 0x60-0x64                          i8042 (its reset line)
//   ports 0x3f8-0x3ff, IRQ 4                 16550 UART, the console
//   ports 0x600-0x605, SCI on IRQ 9          ACPI PM1a event and control blocks
//
// Booted through a firmware (OVMF), the PC is what the firmware's source
// shows it reads (docs/plain-backend.md, "Firmware boot"): the devices above
// but the PM1 blocks, plus
//   ports 0x70-0x71                          MC146818 RTC and CMOS
//   ports 0xcf8-0xcff                        i440FX PCI configuration: host
//                                            bridge, PIIX3 ISA bridge, PIIX4 PM
//   ports 0xb000-0xb03f, SCI on IRQ 9        the PIIX4 PM block (PM1, PM timer)
//   ports 0x510-0x51b                        fw_cfg with DMA
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvm/plan.hpp"

namespace cvm::x86 {

inline constexpr std::uint64_t kIoApicAddress = 0xfec00000;
inline constexpr std::uint64_t kLocalApicAddress = 0xfee00000;
inline constexpr std::uint16_t kPiix4PmBase = 0xb000;
// The value of the DSDT's _S5 package, which the PM1 control block watches for.
inline constexpr std::uint8_t kS5SleepType = 5;

// The PC devices: irqchip, i8042 and the UART; with `pit` the i8254, with
// `acpi` the PM1 blocks the FADT names.
std::vector<op::AddDevice> pc_devices(bool pit, bool acpi);

// What QEMU's -kernel, -initrd and -append hand a firmware, and the machine
// facts it reads from fw_cfg.
struct FirmwareBoot {
    unsigned vcpus = 1;
    // KVM's i8254: OVMF does not use it, a Linux without ACPI tables times
    // its ticks with it (SEV guests do without).
    bool pit = false;
    std::uint64_t low_ram = 0;   // RAM from 0
    std::uint64_t high_ram = 0;  // RAM from 4 GiB
    const Payload* kernel = nullptr;
    const Payload* initrd = nullptr;
    std::string cmdline;
};

// The PC as a firmware boots it: pc_devices(boot.pit, no PM1) and the RTC, the
// i440FX configuration ports, the PIIX4 PM block and fw_cfg. fw_cfg's files:
// "nb-cpus" and "etc/e820" always; with a kernel, "setup" and "kernel" (a
// bzImage split where QEMU splits it, after the setup sectors; any other
// file whole as "kernel"), "cmdline" with its NUL, and "initrd".
std::vector<op::AddDevice> pc_firmware_devices(const FirmwareBoot& boot);

} // namespace cvm::x86
