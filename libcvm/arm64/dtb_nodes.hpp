// Device tree nodes every arm64 "dummy-virt" machine libcvm describes has:
// root properties, /chosen, memory, /cpus, /psci, the architected timer and
// the PMU. The realm layouts (libcvm, kvmtool, qemu) and the plain arm64
// guest share them; each adds its own interrupt controller and devices.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "libcvm/arm64/fdt_writer.hpp"

namespace cvm::arm64 {

// How the guest calls PSCI. In a realm the RMM implements PSCI behind SMC;
// on ordinary KVM the hypervisor answers HVC (Linux 6.1's KVM answers SMC
// from a guest with "not supported").
enum class PsciConduit { smc, hvc };

struct DtbInputs {
    std::uint64_t ram_base = 0;
    std::uint64_t ram_size = 0;
    unsigned vcpus = 1;
    std::optional<std::string> bootargs;                            // absent: no property
    std::optional<std::pair<std::uint64_t, std::uint64_t>> initrd;  // start, size
    bool pmu = false;
    PsciConduit conduit = PsciConduit::smc;
    std::string_view model = "linux,dummy-virt-realm";
};

namespace dtb {

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

} // namespace dtb
} // namespace cvm::arm64
