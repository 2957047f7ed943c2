// libcvm's own realm device tree: only what a Linux guest needs to boot to a
// console. The UART sits in protected IPA space with RIPAS EMPTY, where the
// RMM reports accesses to the host as emulatable MMIO.
#include "backends/arm-rme/dtb_common.hpp"

namespace cvm::cca {
namespace {

constexpr std::uint64_t kGicDistSize = 0x10000;
constexpr std::uint64_t kGicRedistSize = 0x20000;  // per vCPU
constexpr std::uint32_t kGicPhandle = 1;
constexpr std::uint64_t kUartSize = 8;

} // namespace

std::vector<std::uint8_t> libcvm_dtb(const DtbInputs& in) {
    FdtWriter fdt;
    dtb::begin_root(fdt, in, kGicPhandle);

    const std::uint64_t redist_size = std::uint64_t{in.vcpus} * kGicRedistSize;
    fdt.begin_node(node_name("intc", kLibcvmGicDistBase));
    fdt.property_string("compatible", "arm,gic-v3");
    fdt.property_u32("#interrupt-cells", 3);
    fdt.property_empty("interrupt-controller");
    fdt.property_u64s("reg", {kLibcvmGicDistBase, kGicDistSize, kLibcvmGicDistBase - redist_size, redist_size});
    fdt.property_u32("phandle", kGicPhandle);
    fdt.end_node();

    dtb::add_timer(fdt, dtb::kLevelLow);
    if (in.pmu) dtb::add_pmu(fdt);

    fdt.begin_node(node_name("uart", kLibcvmUartBase));
    fdt.property_string("compatible", "ns16550a");
    fdt.property_u64s("reg", {kLibcvmUartBase, kUartSize});
    fdt.property_u32s("interrupts", {dtb::kSpi, 0, dtb::kLevelHigh});
    fdt.property_u32("clock-frequency", 1843200);
    fdt.end_node();

    fdt.end_node();
    return fdt.finish();
}

} // namespace cvm::cca
