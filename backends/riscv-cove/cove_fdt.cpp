#include "backends/riscv-cove/cove_fdt.hpp"

#include <cstring>

#include <fmt/format.h>
#include <libfdt.h>

#include "backends/riscv-cove/cove_layout.hpp"
#include "cvm/error.hpp"

namespace cvm::cove {
namespace {

// Turns a libfdt status into an error naming the step; generating a tree
// from validated inputs fails only if it outgrows 64 KiB.
void check(int status, const char* step) {
    if (status < 0) throw Error(fmt::format("building the guest DTB: {}: {}", step, fdt_strerror(status)));
}

void property_u64_pair(void* fdt, const char* name, std::uint64_t a, std::uint64_t b) {
    fdt64_t cells[2] = {cpu_to_fdt64(a), cpu_to_fdt64(b)};
    check(fdt_property(fdt, name, cells, sizeof cells), name);
}

void property_u64(void* fdt, const char* name, std::uint64_t value) {
    check(fdt_property_u64(fdt, name, value), name);
}

std::string uart_path() { return fmt::format("/soc/serial@{:x}", kUartBase); }

// The packed tree copied into a zeroed 64 KiB region: the bytes after the
// tree are then fixed, and they are measured with it.
std::vector<std::uint8_t> measured_region(const void* fdt) {
    std::vector<std::uint8_t> region(kFdtSize, 0);
    std::memcpy(region.data(), fdt, fdt_totalsize(fdt));
    return region;
}

} // namespace

std::vector<std::uint8_t> build_fdt(const FdtInputs& in) {
    std::vector<std::uint8_t> buffer(kFdtSize, 0);
    void* fdt = buffer.data();
    check(fdt_create(fdt, static_cast<int>(buffer.size())), "fdt_create");
    check(fdt_finish_reservemap(fdt), "reserve map");
    check(fdt_begin_node(fdt, ""), "root");
    check(fdt_property_string(fdt, "compatible", "linux,dummy-virt"), "compatible");
    check(fdt_property_cell(fdt, "#address-cells", 2), "#address-cells");
    check(fdt_property_cell(fdt, "#size-cells", 2), "#size-cells");

    check(fdt_begin_node(fdt, "chosen"), "chosen");
    check(fdt_property_string(fdt, "bootargs", in.cmdline.c_str()), "bootargs");
    check(fdt_property_string(fdt, "stdout-path", uart_path().c_str()), "stdout-path");
    if (in.initrd) {
        property_u64(fdt, "linux,initrd-start", in.initrd->start);
        property_u64(fdt, "linux,initrd-end", in.initrd->end);
    }
    check(fdt_end_node(fdt), "chosen");

    check(fdt_begin_node(fdt, fmt::format("memory@{:x}", in.ram_base).c_str()), "memory");
    check(fdt_property_string(fdt, "device_type", "memory"), "device_type");
    property_u64_pair(fdt, "reg", in.ram_base, in.ram_size);
    check(fdt_end_node(fdt), "memory");

    check(fdt_begin_node(fdt, "cpus"), "cpus");
    check(fdt_property_cell(fdt, "#address-cells", 1), "#address-cells");
    check(fdt_property_cell(fdt, "#size-cells", 0), "#size-cells");
    check(fdt_property_cell(fdt, "timebase-frequency", in.timebase_frequency), "timebase-frequency");
    for (unsigned cpu = 0; cpu < in.vcpus; ++cpu) {
        check(fdt_begin_node(fdt, fmt::format("cpu@{:x}", cpu).c_str()), "cpu");
        check(fdt_property_string(fdt, "device_type", "cpu"), "device_type");
        check(fdt_property_string(fdt, "compatible", "riscv"), "compatible");
        check(fdt_property_string(fdt, "mmu-type", in.mmu_type.c_str()), "mmu-type");
        check(fdt_property_string(fdt, "riscv,isa", in.isa.c_str()), "riscv,isa");
        check(fdt_property_cell(fdt, "reg", cpu), "reg");
        check(fdt_property_string(fdt, "status", "okay"), "status");
        // Each hart's local interrupt controller: timer, software and
        // external interrupts reach Linux through it.
        check(fdt_begin_node(fdt, "interrupt-controller"), "interrupt-controller");
        check(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"), "compatible");
        check(fdt_property_cell(fdt, "#interrupt-cells", 1), "#interrupt-cells");
        check(fdt_property(fdt, "interrupt-controller", nullptr, 0), "interrupt-controller");
        check(fdt_property_cell(fdt, "phandle", 1 + cpu), "phandle");
        check(fdt_end_node(fdt), "interrupt-controller");
        check(fdt_end_node(fdt), "cpu");
    }
    check(fdt_end_node(fdt), "cpus");

    check(fdt_begin_node(fdt, "soc"), "soc");
    check(fdt_property_string(fdt, "compatible", "simple-bus"), "compatible");
    check(fdt_property_cell(fdt, "#address-cells", 2), "#address-cells");
    check(fdt_property_cell(fdt, "#size-cells", 2), "#size-cells");
    check(fdt_property(fdt, "ranges", nullptr, 0), "ranges");
    // No interrupts property: there is no platform interrupt controller to
    // route one through, and Linux's 8250 driver then polls the UART.
    check(fdt_begin_node(fdt, fmt::format("serial@{:x}", kUartBase).c_str()), "serial");
    check(fdt_property_string(fdt, "compatible", "ns16550a"), "compatible");
    property_u64_pair(fdt, "reg", kUartBase, kUartSize);
    check(fdt_property_cell(fdt, "clock-frequency", kUartClock), "clock-frequency");
    check(fdt_end_node(fdt), "serial");
    check(fdt_end_node(fdt), "soc");

    check(fdt_end_node(fdt), "root");
    check(fdt_finish(fdt), "fdt_finish");
    return measured_region(fdt);
}

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
    if (dtb.size() < sizeof(fdt_header))
        throw_format_error(name, 0, "DTB size", fmt::format("at least the {}-byte FDT header", sizeof(fdt_header)),
                           fmt::format("{} bytes", dtb.size()));
    const void* in = dtb.data();
    if (fdt_magic(in) != FDT_MAGIC)
        throw_format_error(name, 0, "FDT magic", "0xd00dfeed", fmt::format("{:#010x}", fdt_magic(in)));
    if (fdt_totalsize(in) > dtb.size())
        throw_format_error(name, 4, "FDT totalsize", fmt::format("at most the file size {}", dtb.size()),
                           fmt::format("{}", fdt_totalsize(in)));
    if (int status = fdt_check_full(in, dtb.size()); status < 0)
        throw_format_error(name, 0, "flattened device tree", "a well-formed tree (libfdt fdt_check_full)",
                           fdt_strerror(status));

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

} // namespace cvm::cove
