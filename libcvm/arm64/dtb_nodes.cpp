#include "libcvm/arm64/dtb_nodes.hpp"

#include <fmt/format.h>

namespace cvm::arm64::dtb {

void begin_root(FdtWriter& fdt, const DtbInputs& in, std::uint32_t gic_phandle) {
    fdt.begin_node("");
    fdt.property_string("compatible", "linux,dummy-virt");
    fdt.property_string("model", in.model);
    fdt.property_u32("#address-cells", 2);
    fdt.property_u32("#size-cells", 2);
    fdt.property_u32("interrupt-parent", gic_phandle);

    fdt.begin_node("chosen");
    if (in.bootargs) fdt.property_string("bootargs", *in.bootargs);
    if (in.initrd) {
        fdt.property_u64("linux,initrd-start", in.initrd->first);
        fdt.property_u64("linux,initrd-end", in.initrd->first + in.initrd->second);
    }
    fdt.end_node();

    fdt.begin_node(node_name("memory", in.ram_base));
    fdt.property_string("device_type", "memory");
    fdt.property_u64s("reg", {in.ram_base, in.ram_size});
    fdt.end_node();

    fdt.begin_node("cpus");
    fdt.property_u32("#size-cells", 0);
    fdt.property_u32("#address-cells", 1);
    for (unsigned i = 0; i < in.vcpus; ++i) {
        fdt.begin_node(fmt::format("cpu@{}", i));
        fdt.property_u32("reg", i);
        fdt.property_string("enable-method", "psci");
        fdt.property_string("compatible", "arm,armv8");
        fdt.property_string("device_type", "cpu");
        fdt.end_node();
    }
    fdt.end_node();

    // PSCI 1.0: the RMM's for realms (SMC), KVM's for ordinary guests (HVC).
    fdt.begin_node("psci");
    fdt.property_u32("cpu_on", 0xc4000003);
    fdt.property_u32("cpu_off", 0x84000002);
    fdt.property_string("method", in.conduit == PsciConduit::smc ? "smc" : "hvc");
    fdt.property_strings("compatible", {"arm,psci-1.0", "arm,psci-0.2", "arm,psci"});
    fdt.end_node();
}

void add_timer(FdtWriter& fdt, std::uint32_t trigger) {
    fdt.begin_node("timer");
    fdt.property_u32s("interrupts", {kPpi, 13, trigger, kPpi, 14, trigger, kPpi, 11, trigger});
    fdt.property_empty("always-on");
    fdt.property_strings("compatible", {"arm,armv8-timer", "arm,armv7-timer"});
    fdt.end_node();
}

void add_pmu(FdtWriter& fdt) {
    fdt.begin_node("pmu");
    fdt.property_u32s("interrupts", {kPpi, 7, kLevelHigh});
    fdt.property_string("compatible", "arm,armv8-pmuv3");
    fdt.end_node();
}

} // namespace cvm::arm64::dtb
