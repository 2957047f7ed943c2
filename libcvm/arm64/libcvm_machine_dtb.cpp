// The device tree of libcvm's arm64 machine: only what a Linux guest needs
// to boot to a console. In a realm the UART sits in protected IPA space with
// RIPAS EMPTY, where the RMM reports accesses to the host as emulatable MMIO;
// on ordinary KVM it is plain unbacked IPA space, which exits as MMIO.
#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/arm64/libcvm_machine.hpp"
#include "libcvm/plan/device_set.hpp"

namespace cvm::arm64 {
namespace {

constexpr std::uint32_t kGicPhandle = 1;

void gic_node(FdtWriter& fdt, const op::AddDevice& gic) {
    if (gic.regions.size() != 2)
        throw Error(fmt::format("libcvm machine: a GICv3 with {} regions; its tree has the distributor and one "
                                "redistributor region", gic.regions.size()));
    fdt.begin_node(node_name("intc", gic.regions[0].base));
    fdt.property_string("compatible", "arm,gic-v3");
    fdt.property_u32("#interrupt-cells", 3);
    fdt.property_empty("interrupt-controller");
    fdt.property_u64s("reg", {gic.regions[0].base, gic.regions[0].size, gic.regions[1].base, gic.regions[1].size});
    fdt.property_u32("phandle", kGicPhandle);
    fdt.end_node();
}

void uart_node(FdtWriter& fdt, const op::AddDevice& uart) {
    if (uart.regions.size() != 1 || !uart.interrupt)
        throw Error("libcvm machine: a 16550 needs one register range and an interrupt");
    fdt.begin_node(node_name("uart", uart.regions[0].base));
    fdt.property_string("compatible", "ns16550a");
    fdt.property_u64s("reg", {uart.regions[0].base, uart.regions[0].size});
    fdt.property_u32s("interrupts", {dtb::kSpi, *uart.interrupt, dtb::kLevelHigh});
    fdt.property_u32("clock-frequency", 1843200);
    fdt.end_node();
}

} // namespace

std::vector<std::uint8_t> libcvm_machine_dtb(const DtbInputs& in, const std::vector<op::AddDevice>& devices) {
    const DeviceSet set(devices, {DeviceKind::gic_v3, DeviceKind::uart_16550}, "libcvm's arm64 device tree");
    const op::AddDevice& gic = set.only(DeviceKind::gic_v3);

    FdtWriter fdt;
    dtb::begin_root(fdt, in, kGicPhandle);
    gic_node(fdt, gic);
    dtb::add_timer(fdt, dtb::kLevelLow);
    if (in.pmu) dtb::add_pmu(fdt);
    for (const auto* uart : set.all(DeviceKind::uart_16550)) uart_node(fdt, *uart);
    fdt.end_node();
    return fdt.finish();
}

} // namespace cvm::arm64
