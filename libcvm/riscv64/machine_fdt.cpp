#include "libcvm/riscv64/machine_fdt.hpp"

#include <cstring>

#include <fmt/format.h>
#include <libfdt.h>

#include "cvm/error.hpp"
#include "libcvm/fdt/fdt_check.hpp"
#include "libcvm/plan/device_set.hpp"

namespace cvm::riscv64 {
namespace {

// Turns a libfdt status into an error naming the step; generating a tree
// from validated inputs fails only if it outgrows 64 KiB.
void check(int status, const char* step) {
    if (status < 0) throw Error(fmt::format("building the guest DTB: {}: {}", step, fdt_strerror(status)));
}

// Big-endian cells appended to a property value.
struct Cells {
    std::vector<std::uint8_t> bytes;
    Cells& u32(std::uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(v >> shift));
        return *this;
    }
    Cells& u64(std::uint64_t v) { return u32(static_cast<std::uint32_t>(v >> 32)).u32(static_cast<std::uint32_t>(v)); }
};

void property(void* fdt, const char* name, const Cells& value) {
    check(fdt_property(fdt, name, value.bytes.data(), static_cast<int>(value.bytes.size())), name);
}
void property_empty(void* fdt, const char* name) { check(fdt_property(fdt, name, nullptr, 0), name); }
void property_cell(void* fdt, const char* name, std::uint32_t value) {
    check(fdt_property_cell(fdt, name, value), name);
}
void property_string(void* fdt, const char* name, const std::string& value) {
    check(fdt_property_string(fdt, name, value.c_str()), name);
}
void begin(void* fdt, const std::string& name) { check(fdt_begin_node(fdt, name.c_str()), name.c_str()); }
void end(void* fdt) { check(fdt_end_node(fdt), "end node"); }

// riscv/fdt.c generate_cpu_nodes: property order as kvmtool writes it.
void cpu_nodes(void* fdt, const FdtInputs& in) {
    begin(fdt, "cpus");
    property_cell(fdt, "#address-cells", 1);
    property_cell(fdt, "#size-cells", 0);
    property_cell(fdt, "timebase-frequency", in.timebase_frequency);
    for (unsigned cpu = 0; cpu < in.vcpus; ++cpu) {
        begin(fdt, fmt::format("cpu@{:x}", cpu));
        property_string(fdt, "device_type", "cpu");
        property_string(fdt, "compatible", "riscv");
        property_string(fdt, "mmu-type", "riscv,sv48");  // kvmtool's fixed value for RV64
        property_string(fdt, "riscv,isa", in.isa);
        if (in.cbom_block_size) property_cell(fdt, "riscv,cbom-block-size", *in.cbom_block_size);
        property_cell(fdt, "reg", cpu);
        property_string(fdt, "status", "okay");
        begin(fdt, "interrupt-controller");
        property_string(fdt, "compatible", "riscv,cpu-intc");
        property_cell(fdt, "#interrupt-cells", 1);
        property_empty(fdt, "interrupt-controller");
        property_cell(fdt, "phandle", kPhandleCpuIntcBase + cpu);
        end(fdt);
        end(fdt);
    }
    end(fdt);
}

// riscv/aia.c aia__generate_fdt_node: the IMSIC only, since a CoVE VM has
// no interrupt sources and kvmtool then skips the APLIC.
void imsic_node(void* fdt, const FdtInputs& in, const op::DeviceRegion& files) {
    const auto base = static_cast<std::uint32_t>(files.base);
    begin(fdt, fmt::format("imsics@{:08x}", base));
    property_string(fdt, "compatible", "riscv,imsics");
    property(fdt, "reg", Cells{}.u32(0).u32(base).u32(0).u32(static_cast<std::uint32_t>(files.size)));
    property_cell(fdt, "#interrupt-cells", 0);
    property_empty(fdt, "interrupt-controller");
    property_empty(fdt, "msi-controller");
    property_cell(fdt, "riscv,num-ids", in.imsic_num_ids);
    property_cell(fdt, "phandle", kPhandleImsic);
    Cells harts;
    for (unsigned cpu = 0; cpu < in.vcpus; ++cpu) harts.u32(kPhandleCpuIntcBase + cpu).u32(9);  // S-mode external
    property(fdt, "interrupts-extended", harts);
    end(fdt);
}

// riscv/pci.c pci__generate_fdt_nodes for a CoVE VM: no interrupt-map
// (no APLIC for pin interrupts), MSIs to the IMSIC.
void pci_node(void* fdt, const op::AddDevice& pci) {
    if (pci.regions.size() != 3) throw Error("the riscv64 PCI host record needs its ECAM, I/O and memory windows");
    const auto& ecam = pci.regions[0];
    const auto& io = pci.regions[1];
    const auto& mem = pci.regions[2];
    constexpr std::uint32_t kSpaceIo = 1u << 24, kSpaceMem32 = 2u << 24;  // of_pci_b_ss
    begin(fdt, "pci");
    property_string(fdt, "device_type", "pci");
    property_cell(fdt, "#address-cells", 3);
    property_cell(fdt, "#size-cells", 2);
    property_cell(fdt, "#interrupt-cells", 1);
    property_string(fdt, "compatible", "pci-host-ecam-generic");
    property_empty(fdt, "dma-coherent");
    property(fdt, "bus-range", Cells{}.u32(0).u32(1));
    property(fdt, "reg", Cells{}.u64(ecam.base).u64(ecam.size));
    Cells ranges;
    ranges.u32(kSpaceIo).u32(0).u32(0).u64(io.base).u64(io.size);
    ranges.u32(kSpaceMem32).u64(mem.base).u64(mem.base).u64(mem.size);
    property(fdt, "ranges", ranges);
    property_cell(fdt, "msi-parent", kPhandleImsic);
    end(fdt);
}

// hw/serial.c serial8250_generate_fdt_node, without the interrupts
// property: nothing could raise the line, and Linux's of_serial then polls.
void uart_node(void* fdt, const op::DeviceRegion& registers) {
    begin(fdt, fmt::format("U6_16550A@{:x}", registers.base));
    property_string(fdt, "compatible", "ns16550a");
    property(fdt, "reg", Cells{}.u64(registers.base).u64(registers.size));
    property_cell(fdt, "clock-frequency", kUartClock);
    end(fdt);
}

} // namespace

std::vector<op::AddDevice> tvm_devices(unsigned vcpus) {
    using op::AddressSpace;
    return {
        {DeviceKind::riscv_imsic, {{AddressSpace::mmio, kImsicBase, std::uint64_t{vcpus} * kImsicPerHart}},
         std::nullopt},
        {DeviceKind::pci_ecam_host, {{AddressSpace::mmio, kPciCfgBase, kPciCfgSize},
                                     {AddressSpace::mmio, kIoportBase, kIoportSize},
                                     {AddressSpace::mmio, kPciMmioBase, kPciMmioSize}}, std::nullopt},
    };
}

std::vector<op::AddDevice> plain_devices() {
    return {{DeviceKind::uart_16550, {{op::AddressSpace::mmio, kUartBase, kUartSize}}, std::nullopt}};
}

std::vector<std::uint8_t> build_fdt(const FdtInputs& in) {
    const DeviceSet set(in.devices, {DeviceKind::riscv_imsic, DeviceKind::pci_ecam_host, DeviceKind::uart_16550},
                        "the riscv64 machine's device tree");
    const op::AddDevice* imsic = set.optional(DeviceKind::riscv_imsic);
    const op::AddDevice* pci = set.optional(DeviceKind::pci_ecam_host);
    const op::AddDevice* uart = set.optional(DeviceKind::uart_16550);
    if (pci && !imsic) throw Error("the riscv64 machine's PCI host sends its MSIs to an IMSIC the plan lacks");
    // kvmtool builds in a staging buffer of FDT_MAX_SIZE (fdt_create zeroes
    // it), then opens the tree into fresh guest memory and packs it there.
    std::vector<std::uint8_t> staging(kFdtSize, 0);
    void* fdt = staging.data();
    check(fdt_create(fdt, static_cast<int>(staging.size())), "fdt_create");
    check(fdt_finish_reservemap(fdt), "reserve map");
    begin(fdt, "");
    property_string(fdt, "compatible", "linux,dummy-virt");
    property_cell(fdt, "#address-cells", 2);
    property_cell(fdt, "#size-cells", 2);

    begin(fdt, "chosen");
    property_string(fdt, "bootargs", in.cmdline);
    property_string(fdt, "stdout-path", "serial0");
    if (in.initrd) {
        property(fdt, "linux,initrd-start", Cells{}.u64(in.initrd->start));
        property(fdt, "linux,initrd-end", Cells{}.u64(in.initrd->end));
    }
    end(fdt);

    begin(fdt, "memory");
    property_string(fdt, "device_type", "memory");
    property(fdt, "reg", Cells{}.u64(in.ram_base).u64(in.ram_size));
    end(fdt);

    cpu_nodes(fdt, in);
    if (imsic) imsic_node(fdt, in, imsic->regions[0]);

    begin(fdt, "smb");
    property_string(fdt, "compatible", "simple-bus");
    property_cell(fdt, "#address-cells", 2);
    property_cell(fdt, "#size-cells", 2);
    // kvmtool names the APLIC's phandle even though it writes no APLIC node.
    if (imsic) property_cell(fdt, "interrupt-parent", kPhandleAplic);
    property_empty(fdt, "ranges");
    if (pci) pci_node(fdt, *pci);
    if (uart) uart_node(fdt, uart->regions[0]);
    end(fdt);
    if (uart) {
        // kvmtool's serial0 alias, which /chosen's stdout-path names.
        begin(fdt, "aliases");
        property_string(fdt, "serial0", fmt::format("/smb/U6_16550A@{:x}", uart->regions[0].base));
        end(fdt);
    }
    // A TVM has no /aliases: only a UART node would set kvmtool's stdout path.

    end(fdt);
    check(fdt_finish(fdt), "fdt_finish");

    std::vector<std::uint8_t> region(kFdtSize, 0);  // fresh guest memory
    check(fdt_open_into(fdt, region.data(), static_cast<int>(region.size())), "fdt_open_into");
    check(fdt_pack(region.data()), "fdt_pack");
    return region;
}

namespace {

// The packed tree copied into a zeroed 64 KiB region: the bytes after the
// tree are then fixed, and they are measured with it.
std::vector<std::uint8_t> measured_region(const void* fdt) {
    std::vector<std::uint8_t> region(kFdtSize, 0);
    std::memcpy(region.data(), fdt, fdt_totalsize(fdt));
    return region;
}

} // namespace

std::vector<std::uint8_t> adapt_user_fdt(ByteSpan dtb, const std::string& name, const std::string& cmdline,
                                         const std::optional<InitrdRange>& initrd) {
    // libfdt reads header fields in place and needs an aligned blob; a
    // mapped file is, a caller's buffer may not be.
    std::vector<std::uint64_t> aligned;
    if (!dtb.empty() && reinterpret_cast<std::uintptr_t>(dtb.data()) % alignof(std::uint64_t) != 0) {
        aligned.resize((dtb.size() + 7) / 8);
        std::memcpy(aligned.data(), dtb.data(), dtb.size());
        dtb = ByteSpan(reinterpret_cast<const std::uint8_t*>(aligned.data()), dtb.size());
    }
    // The header, every structure tag (with bounds libfdt 1.6 lacks: a
    // forged property length made fdt_check_full loop) and libfdt's full
    // check, each failure located in the file.
    check_dtb(dtb, name);
    const void* in = dtb.data();

    std::vector<std::uint8_t> buffer(kFdtSize, 0);
    void* fdt = buffer.data();
    auto fail = [&](int status, const char* step) {
        if (status >= 0) return;
        throw Error(fmt::format("{} {}: {} (the tree with /chosen must fit in {} KiB)", step,
                                status == -FDT_ERR_NOSPACE ? "does not fit" : "failed", fdt_strerror(status),
                                kFdtSize / 1024), 0, name);
    };
    fail(fdt_open_into(in, fdt, static_cast<int>(buffer.size())), "copying the DTB");
    int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen == -FDT_ERR_NOTFOUND) chosen = fdt_add_subnode(fdt, 0, "chosen");
    fail(chosen, "adding /chosen");
    fail(fdt_setprop_string(fdt, chosen, "bootargs", cmdline.c_str()), "setting /chosen/bootargs");
    if (initrd) {
        fail(fdt_setprop_u64(fdt, chosen, "linux,initrd-start", initrd->start), "setting linux,initrd-start");
        fail(fdt_setprop_u64(fdt, chosen, "linux,initrd-end", initrd->end), "setting linux,initrd-end");
    } else {
        // A stale range from the file would point the kernel at memory that
        // holds no measured initrd.
        for (const char* property : {"linux,initrd-start", "linux,initrd-end"}) {
            int status = fdt_delprop(fdt, chosen, property);
            if (status != -FDT_ERR_NOTFOUND) fail(status, "removing a stale initrd range");
        }
    }
    fail(fdt_pack(fdt), "packing the DTB");
    return measured_region(fdt);
}

} // namespace cvm::riscv64
