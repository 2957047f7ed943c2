// QEMU virt's device tree for a realm, as modelled by cca-realm-measurements
// src/qemu.rs ("based on QEMU virt 9.1"; ITS on, no measurement log). QEMU
// builds its tree by inserting nodes, hence the reversed-looking order.
#include "backends/arm-rme/realm_dtb.hpp"
#include "libcvm/arm64/dtb_nodes.hpp"

namespace cvm::cca {
namespace {

using arm64::FdtWriter;
using arm64::node_name;
namespace dtb = arm64::dtb;

constexpr std::uint64_t kGicDistBase = 0x08000000, kGicDistSize = 0x10000;
constexpr std::uint64_t kGicItsBase = 0x08080000, kGicItsSize = 0x20000;
constexpr std::uint64_t kGicRedistBase = 0x080a0000, kGicRedistSize = 0x00f60000;
constexpr std::uint64_t kUartBase = 0x09000000, kUartSize = 0x1000;
constexpr std::uint64_t kRtcBase = 0x09010000, kRtcSize = 0x1000;
constexpr std::uint64_t kFwCfgBase = 0x09020000, kFwCfgSize = 0x18;
constexpr std::uint64_t kVirtioBase = 0x0a000000, kVirtioSize = 0x200;
constexpr std::uint64_t kPlatformBusBase = 0x0c000000, kPlatformBusSize = 0x02000000;
constexpr std::uint64_t kPciMmioBase = 0x10000000, kPciMmioSize = 0x2eff0000;
constexpr std::uint64_t kPciIoportBase = 0x3eff0000, kPciIoportSize = 0x10000;
constexpr std::uint64_t kHighRedistSize = 64ull << 20;
constexpr std::uint64_t kHighPciCfgSize = 256ull << 20;
constexpr std::uint64_t kHighPciMmioSize = 512ull << 30;
constexpr std::uint32_t kClockPhandle = 0x8000;
constexpr std::uint32_t kSpiUart = 1, kSpiRtc = 2, kSpiPcie = 3, kSpiVirtio = 16;
constexpr std::uint32_t kPciRangeIoport = 0x01000000, kPciRangeMmio = 0x02000000, kPciRangeMmio64 = 0x03000000;
constexpr unsigned kLowRedistributors = kGicRedistSize / 0x20000;

std::uint32_t lo(std::uint64_t v) { return static_cast<std::uint32_t>(v); }
std::uint32_t hi(std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); }

} // namespace

std::vector<std::uint8_t> qemu_dtb(const DtbInputs& in, const QemuHighRegions& high) {
    // QEMU numbers phandles down from the clock's: one per vCPU, then the GIC and its ITS.
    const std::uint32_t gic_phandle = kClockPhandle + in.vcpus + 1;
    const std::uint32_t its_phandle = gic_phandle + 1;
    const bool two_redist_regions = in.vcpus > kLowRedistributors;

    FdtWriter fdt;
    dtb::begin_root(fdt, in, gic_phandle);

    fdt.begin_node(node_name("platform-bus", kPlatformBusBase));
    fdt.property_u32("interrupt-parent", gic_phandle);
    fdt.property_u32s("ranges", {0, 0, lo(kPlatformBusBase), lo(kPlatformBusSize)});
    fdt.property_u32("#address-cells", 1);
    fdt.property_u32("#size-cells", 1);
    fdt.property_strings("compatible", {"qemu,platform", "simple-bus"});
    fdt.end_node();

    fdt.begin_node(node_name("fw-cfg", kFwCfgBase));
    fdt.property_empty("dma-coherent");
    fdt.property_u64s("reg", {kFwCfgBase, kFwCfgSize});
    fdt.property_string("compatible", "qemu,fw-cfg-mmio");
    fdt.end_node();

    for (std::uint32_t i = 0; i < 32; ++i) {
        const std::uint64_t address = kVirtioBase + i * kVirtioSize;
        fdt.begin_node(node_name("virtio_mmio", address));
        fdt.property_empty("dma-coherent");
        fdt.property_u32s("interrupts", {dtb::kSpi, kSpiVirtio + i, dtb::kEdgeRising});
        fdt.property_u64s("reg", {address, kVirtioSize});
        fdt.property_string("compatible", "virtio,mmio");
        fdt.end_node();
    }

    fdt.begin_node(node_name("pcie", kPciMmioBase));
    // Four INTx lines swizzled across the four slots.
    std::vector<std::uint32_t> map;
    for (std::uint32_t dev = 0; dev < 4; ++dev)
        for (std::uint32_t pin = 0; pin < 4; ++pin)
            map.insert(map.end(), {dev << 11, 0, 0, pin + 1, gic_phandle, 0, 0, dtb::kSpi,
                                   kSpiPcie + (pin + dev) % 4, dtb::kLevelHigh});
    fdt.property_u32s("interrupt-map", map);
    fdt.property_u32s("interrupt-map-mask", {0x1800, 0, 0, 7});
    fdt.property_u32("#interrupt-cells", 1);
    fdt.property_u32s("ranges", {kPciRangeIoport, 0, 0, 0, lo(kPciIoportBase), 0, lo(kPciIoportSize),
                                 kPciRangeMmio, 0, lo(kPciMmioBase), 0, lo(kPciMmioBase), 0, lo(kPciMmioSize),
                                 kPciRangeMmio64, hi(high.pci_mmio_base), lo(high.pci_mmio_base),
                                 hi(high.pci_mmio_base), lo(high.pci_mmio_base), hi(kHighPciMmioSize),
                                 lo(kHighPciMmioSize)});
    fdt.property_u64s("reg", {high.pci_cfg_base, kHighPciCfgSize});
    fdt.property_u32s("msi-map", {0, its_phandle, 0, 0x10000});
    fdt.property_empty("dma-coherent");
    fdt.property_u32s("bus-range", {0, 0xff});
    fdt.property_u32("linux,pci-domain", 0);
    fdt.property_u32("#size-cells", 2);
    fdt.property_u32("#address-cells", 3);
    fdt.property_string("device_type", "pci");
    fdt.property_string("compatible", "pci-host-ecam-generic");
    fdt.end_node();

    fdt.begin_node(node_name("pl031", kRtcBase));
    fdt.property_string("clock-names", "apb_pclk");
    fdt.property_u64s("reg", {kRtcBase, kRtcSize});
    fdt.property_u32("clocks", kClockPhandle);
    fdt.property_u32s("interrupts", {dtb::kSpi, kSpiRtc, dtb::kLevelHigh});
    fdt.property_strings("compatible", {"arm,pl031", "arm,primecell"});
    fdt.end_node();

    fdt.begin_node(node_name("pl011", kUartBase));
    fdt.property_strings("clock-names", {"uartclk", "apb_pclk"});
    fdt.property_u64s("reg", {kUartBase, kUartSize});
    fdt.property_u32s("clocks", {kClockPhandle, kClockPhandle});
    fdt.property_u32s("interrupts", {dtb::kSpi, kSpiUart, dtb::kLevelHigh});
    fdt.property_strings("compatible", {"arm,pl011", "arm,primecell"});
    fdt.end_node();

    if (in.pmu) dtb::add_pmu(fdt);

    fdt.begin_node(node_name("intc", kGicDistBase));
    fdt.property_u32("phandle", gic_phandle);
    if (two_redist_regions)
        fdt.property_u64s("reg", {kGicDistBase, kGicDistSize, kGicRedistBase, kGicRedistSize, high.redist_base,
                                  kHighRedistSize});
    else
        fdt.property_u64s("reg", {kGicDistBase, kGicDistSize, kGicRedistBase, kGicRedistSize});
    fdt.property_u32("#redistributor-regions", two_redist_regions ? 2 : 1);
    fdt.property_string("compatible", "arm,gic-v3");
    fdt.property_empty("ranges");
    fdt.property_u32("#size-cells", 2);
    fdt.property_u32("#address-cells", 2);
    fdt.property_empty("interrupt-controller");
    fdt.property_u32("#interrupt-cells", 3);
    fdt.begin_node(node_name("its", kGicItsBase));
    fdt.property_u32("phandle", its_phandle);
    fdt.property_u64s("reg", {kGicItsBase, kGicItsSize});
    fdt.property_u32("#msi-cells", 1);
    fdt.property_empty("msi-controller");
    fdt.property_string("compatible", "arm,gic-v3-its");
    fdt.end_node();
    fdt.end_node();

    dtb::add_timer(fdt, dtb::kLevelHigh);

    fdt.begin_node("apb-pclk");
    fdt.property_u32("phandle", kClockPhandle);
    fdt.property_string("clock-output-names", "clk24mhz");
    fdt.property_u32("clock-frequency", 24000000);
    fdt.property_u32("#clock-cells", 0);
    fdt.property_string("compatible", "fixed-clock");
    fdt.end_node();

    fdt.end_node();
    return fdt.finish();
}

} // namespace cvm::cca
