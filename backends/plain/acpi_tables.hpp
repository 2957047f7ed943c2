// The minimal ACPI a Linux guest needs to find its CPUs and to power off:
// RSDP -> XSDT -> {FADT -> (FACS, DSDT with _S5), MADT}.
#pragma once

#include <cstdint>
#include <vector>

namespace cvm::x86 {

// Builds the tables as one blob to be loaded at `base` (RSDP first, so that
// a guest scanning 0xe0000-0xfffff finds it). `vcpus` local APICs are listed.
std::vector<std::uint8_t> build_acpi_tables(std::uint64_t base, unsigned vcpus);

} // namespace cvm::x86
