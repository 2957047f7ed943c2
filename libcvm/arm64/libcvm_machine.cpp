#include "libcvm/arm64/libcvm_machine.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/fdt/fdt_check.hpp"

namespace cvm::arm64 {
namespace {

constexpr std::uint64_t kDtbMax = 2ull << 20;

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }
unsigned ilog2(std::uint64_t v) { return 63u - static_cast<unsigned>(__builtin_clzll(v)); }

} // namespace

Arm64Image boot_kernel(const ImageSpec& kernel) {
    const auto& name = kernel.payload.name();
    Arm64Image image = parse_arm64_image(kernel.payload.bytes(), name);
    if (image.big_endian())
        throw_format_error(name, 24, "arm64 Image flags bit 0", "0 (little-endian kernel)", "1 (big-endian)");
    if (image.image_size == 0)
        throw_format_error(name, 16, "arm64 Image image_size", "the kernel's effective size (Linux 3.17+)", "0");
    if (image.text_offset % 4096)
        throw_format_error(name, 8, "arm64 Image text_offset", "a multiple of 4096",
                           fmt::format("{:#x}", image.text_offset));
    return image;
}

BootLayout libcvm_boot_layout(const BootInputs& in) {
    const VmSpec& spec = *in.spec;
    if (!in.kernel) throw Error("libcvm layout: the guest needs a kernel (an arm64 Image)");
    BootLayout layout;
    layout.ram_base = kRamBase;
    layout.ram_size = spec.memory.size;
    if (layout.ram_size == 0 || layout.ram_size % (2ull << 20))
        throw Error(fmt::format("libcvm layout: guest memory of {} bytes is not a multiple of 2 MiB",
                                layout.ram_size));
    const std::uint64_t ram_end = kRamBase + layout.ram_size;
    layout.ipa_bits = std::max(ilog2(ram_end - 1), 32u) + 1;

    Arm64Image image = boot_kernel(*in.kernel);
    const std::uint64_t kernel = kRamBase + image.text_offset;
    layout.pc = kernel;
    layout.loads.push_back({kernel, in.kernel->payload, "kernel", in.kernel->measured});
    const std::uint64_t dtb = align_up(kernel + std::max<std::uint64_t>(image.image_size, in.kernel->payload.size()),
                                       kDtbMax);
    layout.x0 = dtb;
    const std::uint64_t initrd_start = dtb + kDtbMax;

    std::optional<std::pair<std::uint64_t, std::uint64_t>> initrd;
    if (in.initrd) {
        initrd.emplace(initrd_start, in.initrd->payload.size());
        layout.loads.push_back({initrd_start, in.initrd->payload, "initrd", in.initrd->measured});
    }
    layout.devices = libcvm_machine_devices(spec.vcpus.count);
    if (in.dtb) {
        if (in.dtb->payload.size() > kDtbMax)
            throw Error(fmt::format("the DTB is {} bytes; Linux accepts at most 2 MiB", in.dtb->payload.size()), 0,
                        in.dtb->payload.name());
        check_dtb_used_as_is(in.dtb->payload.bytes(), in.dtb->payload.name(), spec.cmdline, spec.vcpus.count);
        layout.loads.push_back({dtb, in.dtb->payload, "dtb", in.dtb->measured});
    } else {
        DtbInputs tree;
        tree.ram_base = kRamBase;
        tree.ram_size = layout.ram_size;
        tree.vcpus = spec.vcpus.count;
        if (!spec.cmdline.empty()) tree.bootargs = spec.cmdline;
        tree.initrd = initrd;
        tree.pmu = in.pmu;
        tree.conduit = in.conduit;
        tree.model = in.model;
        layout.loads.push_back(
            {dtb, Payload::from_bytes(libcvm_machine_dtb(tree, layout.devices), "libcvm device tree"), "dtb", true});
    }
    for (const auto& load : layout.loads)
        if (load.gpa + load.data.size() > ram_end)
            throw Error(fmt::format("libcvm layout: the {} at {:#x} ({} bytes) ends beyond guest RAM at {:#x}; "
                                    "give the guest more memory", load.label, load.gpa, load.data.size(), ram_end));
    return layout;
}

std::vector<op::AddDevice> libcvm_machine_devices(unsigned vcpus) {
    const std::uint64_t redist_size = std::uint64_t{vcpus} * kGicRedistStride;
    return {
        {DeviceKind::gic_v3, {{op::AddressSpace::mmio, kGicDistBase, kGicDistSize},
                              {op::AddressSpace::mmio, gic_redist_base(vcpus), redist_size}}, std::nullopt},
        {DeviceKind::uart_16550, {{op::AddressSpace::mmio, kUartBase, kUartSize}}, kUartSpi},
    };
}

} // namespace cvm::arm64
