// Nodes shared by the realm device trees.
#pragma once

#include <cstdint>

#include "backends/arm-rme/fdt_writer.hpp"
#include "backends/arm-rme/realm_dtb.hpp"

namespace cvm::cca::dtb {

// Interrupt specifier cells (GIC binding).
inline constexpr std::uint32_t kSpi = 0, kPpi = 1;
inline constexpr std::uint32_t kEdgeRising = 1, kLevelHigh = 4, kLevelLow = 8;

// Opens the root node and writes its standard properties, /chosen, the
// memory node, /cpus and /psci. The caller adds devices and closes the root.
void begin_root(FdtWriter& fdt, const DtbInputs& in, std::uint32_t gic_phandle);

// The architected timer on PPIs 13, 14 and 11 with the given trigger.
void add_timer(FdtWriter& fdt, std::uint32_t trigger);

// The PMU on PPI 7.
void add_pmu(FdtWriter& fdt);

} // namespace cvm::cca::dtb
