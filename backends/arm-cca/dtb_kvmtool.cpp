// kvmtool-cca's devices and device tree for a realm, as modelled by
// cca-realm-measurements src/kvmtool.rs (virtio over PCI, GIC ITS on, no
// measurement log): the node and property order below is the byte layout,
// the addresses and interrupts those of the device records.
#include <fmt/format.h>

#include "backends/arm-cca/realm_dtb.hpp"
#include "libcvm/arm64/dtb_nodes.hpp"
#include "cvm/error.hpp"

namespace cvm::cca {
namespace {

using arm64::FdtWriter;
using arm64::node_name;
using op::AddressSpace;
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

const op::DeviceRegion& region(const op::AddDevice& device, std::size_t i, const char* what) {
    if (device.regions.size() <= i)
        throw Error(fmt::format("kvmtool layout: the {} record lacks its {}", op::to_string(device.kind), what));
    return device.regions[i];
}

} // namespace

std::vector<op::AddDevice> kvmtool_devices(unsigned vcpus) {
    const std::uint64_t redist_size = std::uint64_t{vcpus} * kGicRedistSize;
    const std::uint64_t redist_base = kGicDistBase - redist_size;
    std::vector<op::AddDevice> devices{
        {DeviceKind::gic_v3, {{AddressSpace::mmio, kGicDistBase, kGicDistSize},
                              {AddressSpace::mmio, redist_base, redist_size}}, std::nullopt},
        {DeviceKind::gic_v3_its, {{AddressSpace::mmio, redist_base - kGicItsSize, kGicItsSize}}, std::nullopt},
    };
    for (std::uint32_t i = 0; i < 4; ++i)
        devices.push_back({DeviceKind::uart_16550, {{AddressSpace::mmio, kUartBase + i * kUartStride, kUartSize}},
                           kSpiUart + i});
    devices.push_back({DeviceKind::rtc_mc146818, {{AddressSpace::mmio, kRtcBase, kRtcSize}}, std::nullopt});
    // ECAM, then the I/O window (MMIO at 0 on arm64) and the 32-bit memory window.
    devices.push_back({DeviceKind::pci_ecam_host, {{AddressSpace::mmio, kPciCfgBase, kPciCfgSize},
                                                   {AddressSpace::mmio, kIoportBase, kIoportSize},
                                                   {AddressSpace::mmio, kPciMmioBase, kPciMmioSize}}, kSpiPci});
    return devices;
}

std::vector<std::uint8_t> kvmtool_dtb(const DtbInputs& in, const std::vector<op::AddDevice>& devices) {
    const DeviceSet set(devices,
                        {DeviceKind::gic_v3, DeviceKind::gic_v3_its, DeviceKind::uart_16550, DeviceKind::rtc_mc146818,
                         DeviceKind::pci_ecam_host},
                        "the kvmtool layout's device tree");
    const auto& gic = set.only(DeviceKind::gic_v3);
    const auto& its = set.only(DeviceKind::gic_v3_its);
    const auto& rtc = set.only(DeviceKind::rtc_mc146818);
    const auto& pci = set.only(DeviceKind::pci_ecam_host);
    const auto& dist = region(gic, 0, "distributor");
    const auto& redist = region(gic, 1, "redistributors");

    FdtWriter fdt;
    dtb::begin_root(fdt, in, kGicPhandle);

    fdt.begin_node("intc");
    fdt.property_string("compatible", "arm,gic-v3");
    fdt.property_u32("#interrupt-cells", 3);
    fdt.property_empty("interrupt-controller");
    fdt.property_u64s("reg", {dist.base, dist.size, redist.base, redist.size});
    fdt.property_u32("phandle", kGicPhandle);
    fdt.property_u32("#address-cells", 2);
    fdt.property_u32("#size-cells", 2);
    fdt.property_empty("ranges");
    fdt.begin_node("msic");
    fdt.property_string("compatible", "arm,gic-v3-its");
    fdt.property_empty("msi-controller");
    fdt.property_u32("phandle", kItsPhandle);
    fdt.property_u64s("reg", {region(its, 0, "frame").base, region(its, 0, "frame").size});
    fdt.end_node();
    fdt.end_node();

    dtb::add_timer(fdt, dtb::kLevelLow);
    if (in.pmu) dtb::add_pmu(fdt);

    for (const auto* uart : set.all(DeviceKind::uart_16550)) {
        const auto& r = region(*uart, 0, "registers");
        if (!uart->interrupt) throw Error("kvmtool layout: a 16550 record without its interrupt");
        fdt.begin_node(node_name("U6_16550A", r.base));
        fdt.property_string("compatible", "ns16550a");
        fdt.property_u64s("reg", {r.base, r.size});
        fdt.property_u32s("interrupts", {dtb::kSpi, *uart->interrupt, dtb::kLevelHigh});
        fdt.property_u32("clock-frequency", 1843200);
        fdt.end_node();
    }

    fdt.begin_node(node_name("rtc", region(rtc, 0, "registers").base));
    fdt.property_string("compatible", "motorola,mc146818");
    fdt.property_u64s("reg", {region(rtc, 0, "registers").base, region(rtc, 0, "registers").size});
    fdt.end_node();

    const auto& ecam = region(pci, 0, "ECAM");
    const auto& io = region(pci, 1, "I/O window");
    const auto& mem = region(pci, 2, "memory window");
    if (!pci.interrupt) throw Error("kvmtool layout: the PCI host record without its first interrupt");
    fdt.begin_node(node_name("pci", ecam.base));
    fdt.property_string("device_type", "pci");
    fdt.property_u32("#address-cells", 3);
    fdt.property_u32("#size-cells", 2);
    fdt.property_empty("dma-coherent");
    fdt.property_u32s("bus-range", {0, 0});
    fdt.property_string("compatible", "pci-host-ecam-generic");
    fdt.property_u64s("reg", {ecam.base, ecam.size});
    fdt.property_u32s("ranges", {kPciRangeIoport, 0, 0, 0, lo(io.base), 0, lo(io.size),
                                 kPciRangeMmio, 0, lo(mem.base), 0, lo(mem.base), 0, lo(mem.size)});
    // One SPI per PCI slot (first + slot), pin INTA only, shared by all buses.
    std::vector<std::uint32_t> map;
    for (std::uint32_t slot = 0; slot < 32; ++slot)
        map.insert(map.end(),
                   {slot << 11, 0, 0, 1, kGicPhandle, 0, 0, dtb::kSpi, *pci.interrupt + slot, dtb::kLevelHigh});
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
