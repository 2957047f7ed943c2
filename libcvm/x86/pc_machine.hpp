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
#pragma once

#include <cstdint>
#include <vector>

#include "cvm/plan.hpp"

namespace cvm::x86 {

inline constexpr std::uint64_t kIoApicAddress = 0xfec00000;
inline constexpr std::uint64_t kLocalApicAddress = 0xfee00000;
// The value of the DSDT's _S5 package, which the PM1 control block watches for.
inline constexpr std::uint8_t kS5SleepType = 5;

// The PC devices: irqchip, i8042 and the UART; with `pit` the i8254, with
// `acpi` the PM1 blocks the FADT names.
std::vector<op::AddDevice> pc_devices(bool pit, bool acpi);

} // namespace cvm::x86
