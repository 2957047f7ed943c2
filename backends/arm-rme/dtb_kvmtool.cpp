// kvmtool-cca's device tree for a realm, as modelled by
// cca-realm-measurements src/kvmtool.rs (virtio over PCI, GIC ITS on, no
// measurement log): the node and property order below is the byte layout.
#include <fmt/format.h>

#include "backends/arm-rme/realm_dtb.hpp"
#include "libcvm/arm64/dtb_nodes.hpp"
#include "cvm/error.hpp"

namespace cvm::cca {
namespace {

using arm64::FdtWriter;
using arm64::node_name;
namespace dtb = arm64::dtb;

constexpr std::uint64_t kIoportBase = 0x00000000, kIoportSize = 0x00010000;
constexpr std::uint64_t kUartBase = 0x01000000, kUartSize = 8, kUartStride = 0x1000;
constexpr std::uint64_t kRtcBase = 0x01010000, kRtcSize = 2;
constexpr std::uint64_t kPciCfgBase = 0x40000000, kPciCfgSize = 1ull << 28;
constexpr std::uint64_t kPciMmioBase = kPciCfgBase + kPciCfgSize;
constexpr std::uint64_t kRamBase = 0x80000000;
constexpr std::uint64_t kPciMmioSize = kRamBase - kPciMmioBase;
constexpr std::uint64_t kGicDistBase = 0x3fff0000, kGicDistSize = 0x10000;
constexpr std::uint64_t kGicRedistSize = 0x20000;  // per vCPU
constexpr std::uint64_t kGicItsSize = 0x20000;
constexpr std::uint32_t kGicPhandle = 1, kItsPhandle = 2;
constexpr std::uint32_t kSpiUart = 0, kSpiPci = 64;
constexpr std::uint32_t kPciRangeIoport = 0x01000000, kPciRangeMmio = 0x02000000;

std::uint32_t lo(std::uint64_t v) { return static_cast<std::uint32_t>(v); }

} // namespace

std::vector<std::uint8_t> kvmtool_dtb(const DtbInputs& in) {
    FdtWriter fdt;
    dtb::begin_root(fdt, in, kGicPhandle);

    const std::uint64_t redist_size = std::uint64_t{in.vcpus} * kGicRedistSize;
    const std::uint64_t redist_base = kGicDistBase - redist_size;
    fdt.begin_node("intc");
    fdt.property_string("compatible", "arm,gic-v3");
    fdt.property_u32("#interrupt-cells", 3);
    fdt.property_empty("interrupt-controller");
    fdt.property_u64s("reg", {kGicDistBase, kGicDistSize, redist_base, redist_size});
    fdt.property_u32("phandle", kGicPhandle);
    fdt.property_u32("#address-cells", 2);
    fdt.property_u32("#size-cells", 2);
    fdt.property_empty("ranges");
    fdt.begin_node("msic");
    fdt.property_string("compatible", "arm,gic-v3-its");
    fdt.property_empty("msi-controller");
    fdt.property_u32("phandle", kItsPhandle);
    fdt.property_u64s("reg", {redist_base - kGicItsSize, kGicItsSize});
    fdt.end_node();
    fdt.end_node();

    dtb::add_timer(fdt, dtb::kLevelLow);
    if (in.pmu) dtb::add_pmu(fdt);

    for (std::uint32_t i = 0; i < 4; ++i) {
        const std::uint64_t address = kUartBase + i * kUartStride;
        fdt.begin_node(node_name("U6_16550A", address));
        fdt.property_string("compatible", "ns16550a");
        fdt.property_u64s("reg", {address, kUartSize});
        fdt.property_u32s("interrupts", {dtb::kSpi, kSpiUart + i, dtb::kLevelHigh});
        fdt.property_u32("clock-frequency", 1843200);
        fdt.end_node();
    }

    fdt.begin_node(node_name("rtc", kRtcBase));
    fdt.property_string("compatible", "motorola,mc146818");
    fdt.property_u64s("reg", {kRtcBase, kRtcSize});
    fdt.end_node();

    fdt.begin_node(node_name("pci", kPciCfgBase));
    fdt.property_string("device_type", "pci");
    fdt.property_u32("#address-cells", 3);
    fdt.property_u32("#size-cells", 2);
    fdt.property_empty("dma-coherent");
    fdt.property_u32s("bus-range", {0, 0});
    fdt.property_string("compatible", "pci-host-ecam-generic");
    fdt.property_u64s("reg", {kPciCfgBase, kPciCfgSize});
    fdt.property_u32s("ranges", {kPciRangeIoport, 0, 0, 0, lo(kIoportBase), 0, lo(kIoportSize),
                                 kPciRangeMmio, 0, lo(kPciMmioBase), 0, lo(kPciMmioBase), 0, lo(kPciMmioSize)});
    // One SPI per PCI slot (64 + slot), pin INTA only, shared by all buses.
    std::vector<std::uint32_t> map;
    for (std::uint32_t slot = 0; slot < 32; ++slot)
        map.insert(map.end(), {slot << 11, 0, 0, 1, kGicPhandle, 0, 0, dtb::kSpi, kSpiPci + slot, dtb::kLevelHigh});
    fdt.property_u32s("interrupt-map", map);
    fdt.property_u32s("interrupt-map-mask", {0xf800, 0, 0, 7});
    fdt.property_u32("#interrupt-cells", 1);
    fdt.property_u32s("msi-map", {0, kItsPhandle, 0, 0x10000});
    fdt.end_node();

    fdt.end_node();
    auto blob = fdt.finish();
    if (blob.size() > kKvmtoolDtbSize)
        throw Error(fmt::format("the kvmtool device tree is {} bytes, more than its 64 KiB area", blob.size()));
    blob.resize(kKvmtoolDtbSize, 0);
    return blob;
}

} // namespace cvm::cca
