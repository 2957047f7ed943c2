// The minimal ACPI a Linux guest needs to find its CPUs and to power off:
// RSDP -> XSDT -> {FADT -> (FACS, DSDT with _S5), MADT}.
#pragma once

#include <cstdint>
#include <vector>

#include "cvm/plan.hpp"

namespace cvm::x86 {

// Builds the tables as one blob to be loaded at `base` (RSDP first, so that
// a guest scanning 0xe0000-0xfffff finds it). `vcpus` local APICs are
// listed; the PM1 blocks, the SCI and the APIC addresses are those of the
// machine's device records (libcvm/x86/pc_machine.hpp).
std::vector<std::uint8_t> build_acpi_tables(std::uint64_t base, unsigned vcpus,
                                            const std::vector<op::AddDevice>& devices);

} // namespace cvm::x86
