// QEMU virt's devices and device tree for a realm, as modelled by
// cca-realm-measurements src/qemu.rs ("based on QEMU virt 9.1"; ITS on, no
// measurement log). QEMU builds its tree by inserting nodes, hence the
// reversed-looking order; addresses and interrupts come from the records.
#include <fmt/format.h>

#include "backends/arm-cca/realm_dtb.hpp"
#include "cvm/error.hpp"
#include "libcvm/arm64/dtb_nodes.hpp"

namespace cvm::cca {
namespace {

using arm64::FdtWriter;
using arm64::node_name;
using op::AddressSpace;
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

const op::DeviceRegion& region(const op::AddDevice& device, std::size_t i) {
    if (device.regions.size() <= i)
        throw Error(fmt::format("qemu layout: the {} record lacks region {}", op::to_string(device.kind), i));
    return device.regions[i];
}

std::uint32_t interrupt(const op::AddDevice& device) {
    if (!device.interrupt)
        throw Error(fmt::format("qemu layout: the {} record lacks its interrupt", op::to_string(device.kind)));
    return *device.interrupt;
}

} // namespace

std::vector<op::AddDevice> qemu_devices(unsigned vcpus, const QemuHighRegions& high) {
    op::AddDevice gic{DeviceKind::gic_v3, {{AddressSpace::mmio, kGicDistBase, kGicDistSize},
                                          {AddressSpace::mmio, kGicRedistBase, kGicRedistSize}}, std::nullopt};
    // virt puts the redistributors of vCPUs beyond the low region's 123 in a
    // second region above RAM.
    if (vcpus > kLowRedistributors) gic.regions.push_back({AddressSpace::mmio, high.redist_base, kHighRedistSize});
    std::vector<op::AddDevice> devices{
        std::move(gic),
        {DeviceKind::gic_v3_its, {{AddressSpace::mmio, kGicItsBase, kGicItsSize}}, std::nullopt},
        {DeviceKind::uart_pl011, {{AddressSpace::mmio, kUartBase, kUartSize}}, kSpiUart},
        {DeviceKind::rtc_pl031, {{AddressSpace::mmio, kRtcBase, kRtcSize}}, kSpiRtc},
        {DeviceKind::fw_cfg_mmio, {{AddressSpace::mmio, kFwCfgBase, kFwCfgSize}}, std::nullopt},
    };
    for (std::uint32_t i = 0; i < 32; ++i)
        devices.push_back({DeviceKind::virtio_mmio, {{AddressSpace::mmio, kVirtioBase + i * kVirtioSize, kVirtioSize}},
                           kSpiVirtio + i});
    // ECAM (high), then the I/O window, the 32-bit and the 64-bit memory windows.
    devices.push_back({DeviceKind::pci_ecam_host, {{AddressSpace::mmio, high.pci_cfg_base, kHighPciCfgSize},
                                                   {AddressSpace::mmio, kPciIoportBase, kPciIoportSize},
                                                   {AddressSpace::mmio, kPciMmioBase, kPciMmioSize},
                                                   {AddressSpace::mmio, high.pci_mmio_base, kHighPciMmioSize}},
                       kSpiPcie});
    return devices;
}

std::vector<std::uint8_t> qemu_dtb(const DtbInputs& in, const std::vector<op::AddDevice>& devices) {
    const DeviceSet set(devices,
                        {DeviceKind::gic_v3, DeviceKind::gic_v3_its, DeviceKind::uart_pl011, DeviceKind::rtc_pl031,
                         DeviceKind::fw_cfg_mmio, DeviceKind::virtio_mmio, DeviceKind::pci_ecam_host},
                        "the qemu layout's device tree");
    const auto& gic = set.only(DeviceKind::gic_v3);
    const auto& its = set.only(DeviceKind::gic_v3_its);
    const auto& uart = set.only(DeviceKind::uart_pl011);
    const auto& rtc = set.only(DeviceKind::rtc_pl031);
    const auto& fw_cfg = set.only(DeviceKind::fw_cfg_mmio);
    const auto& pci = set.only(DeviceKind::pci_ecam_host);
    if (gic.regions.size() != 2 && gic.regions.size() != 3)
        throw Error("qemu layout: the GICv3 record needs the distributor and one or two redistributor regions");
    // QEMU numbers phandles down from the clock's: one per vCPU, then the GIC and its ITS.
    const std::uint32_t gic_phandle = kClockPhandle + in.vcpus + 1;
    const std::uint32_t its_phandle = gic_phandle + 1;

    FdtWriter fdt;
    dtb::begin_root(fdt, in, gic_phandle);

    fdt.begin_node(node_name("platform-bus", kPlatformBusBase));
    fdt.property_u32("interrupt-parent", gic_phandle);
    fdt.property_u32s("ranges", {0, 0, lo(kPlatformBusBase), lo(kPlatformBusSize)});
    fdt.property_u32("#address-cells", 1);
    fdt.property_u32("#size-cells", 1);
    fdt.property_strings("compatible", {"qemu,platform", "simple-bus"});
    fdt.end_node();

    fdt.begin_node(node_name("fw-cfg", region(fw_cfg, 0).base));
    fdt.property_empty("dma-coherent");
    fdt.property_u64s("reg", {region(fw_cfg, 0).base, region(fw_cfg, 0).size});
    fdt.property_string("compatible", "qemu,fw-cfg-mmio");
    fdt.end_node();

    for (const auto* virtio : set.all(DeviceKind::virtio_mmio)) {
        const auto& r = region(*virtio, 0);
        fdt.begin_node(node_name("virtio_mmio", r.base));
        fdt.property_empty("dma-coherent");
        fdt.property_u32s("interrupts", {dtb::kSpi, interrupt(*virtio), dtb::kEdgeRising});
        fdt.property_u64s("reg", {r.base, r.size});
        fdt.property_string("compatible", "virtio,mmio");
        fdt.end_node();
    }

    const auto& ecam = region(pci, 0);
    const auto& io = region(pci, 1);
    const auto& mem32 = region(pci, 2);
    const auto& mem64 = region(pci, 3);
    fdt.begin_node(node_name("pcie", mem32.base));
    // Four INTx lines swizzled across the four slots.
    std::vector<std::uint32_t> map;
    for (std::uint32_t dev = 0; dev < 4; ++dev)
        for (std::uint32_t pin = 0; pin < 4; ++pin)
            map.insert(map.end(), {dev << 11, 0, 0, pin + 1, gic_phandle, 0, 0, dtb::kSpi,
                                   interrupt(pci) + (pin + dev) % 4, dtb::kLevelHigh});
    fdt.property_u32s("interrupt-map", map);
    fdt.property_u32s("interrupt-map-mask", {0x1800, 0, 0, 7});
    fdt.property_u32("#interrupt-cells", 1);
    fdt.property_u32s("ranges", {kPciRangeIoport, 0, 0, 0, lo(io.base), 0, lo(io.size),
                                 kPciRangeMmio, 0, lo(mem32.base), 0, lo(mem32.base), 0, lo(mem32.size),
                                 kPciRangeMmio64, hi(mem64.base), lo(mem64.base),
                                 hi(mem64.base), lo(mem64.base), hi(mem64.size),
                                 lo(mem64.size)});
    fdt.property_u64s("reg", {ecam.base, ecam.size});
    fdt.property_u32s("msi-map", {0, its_phandle, 0, 0x10000});
    fdt.property_empty("dma-coherent");
    fdt.property_u32s("bus-range", {0, 0xff});
    fdt.property_u32("linux,pci-domain", 0);
    fdt.property_u32("#size-cells", 2);
    fdt.property_u32("#address-cells", 3);
    fdt.property_string("device_type", "pci");
    fdt.property_string("compatible", "pci-host-ecam-generic");
    fdt.end_node();

    fdt.begin_node(node_name("pl031", region(rtc, 0).base));
    fdt.property_string("clock-names", "apb_pclk");
    fdt.property_u64s("reg", {region(rtc, 0).base, region(rtc, 0).size});
    fdt.property_u32("clocks", kClockPhandle);
    fdt.property_u32s("interrupts", {dtb::kSpi, interrupt(rtc), dtb::kLevelHigh});
    fdt.property_strings("compatible", {"arm,pl031", "arm,primecell"});
    fdt.end_node();

    fdt.begin_node(node_name("pl011", region(uart, 0).base));
    fdt.property_strings("clock-names", {"uartclk", "apb_pclk"});
    fdt.property_u64s("reg", {region(uart, 0).base, region(uart, 0).size});
    fdt.property_u32s("clocks", {kClockPhandle, kClockPhandle});
    fdt.property_u32s("interrupts", {dtb::kSpi, interrupt(uart), dtb::kLevelHigh});
    fdt.property_strings("compatible", {"arm,pl011", "arm,primecell"});
    fdt.end_node();

    if (in.pmu) dtb::add_pmu(fdt);

    fdt.begin_node(node_name("intc", region(gic, 0).base));
    fdt.property_u32("phandle", gic_phandle);
    std::vector<std::uint64_t> reg;
    for (const auto& r : gic.regions) reg.insert(reg.end(), {r.base, r.size});
    fdt.property_u64s("reg", reg);
    fdt.property_u32("#redistributor-regions", static_cast<std::uint32_t>(gic.regions.size() - 1));
    fdt.property_string("compatible", "arm,gic-v3");
    fdt.property_empty("ranges");
    fdt.property_u32("#size-cells", 2);
    fdt.property_u32("#address-cells", 2);
    fdt.property_empty("interrupt-controller");
    fdt.property_u32("#interrupt-cells", 3);
    fdt.begin_node(node_name("its", region(its, 0).base));
    fdt.property_u32("phandle", its_phandle);
    fdt.property_u64s("reg", {region(its, 0).base, region(its, 0).size});
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
