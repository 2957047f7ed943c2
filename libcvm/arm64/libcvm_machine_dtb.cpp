// The device tree of libcvm's arm64 machine: only what a Linux guest needs
// to boot to a console. In a realm the UART sits in protected IPA space with
// RIPAS EMPTY, where the RMM reports accesses to the host as emulatable MMIO;
// on ordinary KVM it is plain unbacked IPA space, which exits as MMIO.
#include "libcvm/arm64/libcvm_machine.hpp"

namespace cvm::arm64 {
namespace {

constexpr std::uint32_t kGicPhandle = 1;

} // namespace

std::vector<std::uint8_t> libcvm_machine_dtb(const DtbInputs& in) {
    FdtWriter fdt;
    dtb::begin_root(fdt, in, kGicPhandle);

    const std::uint64_t redist_size = std::uint64_t{in.vcpus} * kGicRedistStride;
    fdt.begin_node(node_name("intc", kGicDistBase));
    fdt.property_string("compatible", "arm,gic-v3");
    fdt.property_u32("#interrupt-cells", 3);
    fdt.property_empty("interrupt-controller");
    fdt.property_u64s("reg", {kGicDistBase, kGicDistSize, gic_redist_base(in.vcpus), redist_size});
    fdt.property_u32("phandle", kGicPhandle);
    fdt.end_node();

    dtb::add_timer(fdt, dtb::kLevelLow);
    if (in.pmu) dtb::add_pmu(fdt);

    fdt.begin_node(node_name("uart", kUartBase));
    fdt.property_string("compatible", "ns16550a");
    fdt.property_u64s("reg", {kUartBase, kUartSize});
    fdt.property_u32s("interrupts", {dtb::kSpi, kUartSpi, dtb::kLevelHigh});
    fdt.property_u32("clock-frequency", 1843200);
    fdt.end_node();

    fdt.end_node();
    return fdt.finish();
}

} // namespace cvm::arm64
