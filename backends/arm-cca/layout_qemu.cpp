// QEMU virt's realm layout (cca-realm-measurements src/qemu.rs, "QEMU virt
// 9.1"): RAM at 1 GiB; the kernel at RAM + text_offset; the initrd at
// max(RAM + min(RAM/2, 128 MiB), kernel end), 4 KiB aligned; the DTB at the
// next 2 MiB boundary. With firmware (-bios): the firmware at IPA 0, the DTB
// at the RAM base, PC = X0 = 0, and the kernel and initrd are not loaded into
// the realm (the firmware fetches them through fw_cfg).
#include <algorithm>

#include <fmt/format.h>

#include "backends/arm-cca/layout.hpp"
#include "backends/arm-cca/realm_dtb.hpp"
#include "cvm/error.hpp"

namespace cvm::cca {
namespace {

constexpr std::uint64_t kRamBase = 0x40000000;
constexpr std::uint64_t kGiB = 1ull << 30, kMiB = 1ull << 20;
constexpr std::uint64_t kHighRedistBase = 0x4000000000;
constexpr std::uint64_t kHighRedistSize = 64 * kMiB;
constexpr std::uint64_t kHighPciCfgSize = 256 * kMiB;
constexpr std::uint64_t kHighPciMmioSize = 512 * kGiB;

// virt's memory map above RAM (no hotplug memory: maxmem = mem, no slots).
// The IPA width is the top of the high PCI MMIO window, doubled for the
// realm's unprotected half.
unsigned place_high_regions(std::uint64_t ram_size, QemuHighRegions& high) {
    std::uint64_t addr = std::max(align_up(kRamBase + ram_size, kGiB), kHighRedistBase);
    high.redist_base = align_up(addr, kHighRedistSize);
    addr += kHighRedistSize;
    high.pci_cfg_base = align_up(addr, kHighPciCfgSize);
    addr += kHighPciCfgSize;
    high.pci_mmio_base = align_up(addr, kHighPciMmioSize);
    addr += kHighPciMmioSize;
    return ilog2(addr) + 2;
}

} // namespace

RealmLayout qemu_layout(const LayoutInputs& in) {
    const VmSpec& spec = *in.spec;
    RealmLayout layout;
    layout.ram_base = kRamBase;
    layout.ram_size = spec.memory.size;
    if (layout.ram_size == 0 || layout.ram_size % 4096)
        throw Error(fmt::format("qemu layout: guest memory of {} bytes is not a multiple of 4 KiB", layout.ram_size));
    QemuHighRegions high;
    layout.ipa_bits = place_high_regions(layout.ram_size, high);
    layout.default_hash = HashAlgorithm::sha512;

    if (in.initrd && !in.kernel) throw Error("qemu layout: an initrd needs a kernel (-initrd without -kernel)");
    std::uint64_t dtb = kRamBase;
    layout.pc = kRamBase;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> initrd;
    if (in.kernel) {
        Arm64Image image = realm_kernel(*in.kernel);
        const std::uint64_t kernel_start = kRamBase + image.text_offset;
        std::uint64_t initrd_start = kRamBase + std::min(layout.ram_size / 2, 128 * kMiB);
        initrd_start = align_up(std::max(initrd_start, kernel_start + image.image_size), 4096);
        std::uint64_t initrd_size = in.initrd ? in.initrd->payload.size() : 0;
        if (in.initrd) initrd.emplace(initrd_start, initrd_size);
        if (!in.firmware) {
            layout.loads.push_back({kernel_start, in.kernel->payload, "kernel"});
            if (in.initrd) layout.loads.push_back({initrd_start, in.initrd->payload, "initrd"});
        }
        dtb = align_up(initrd_start + initrd_size, 2 * kMiB);
    }
    if (in.firmware) {
        // virt's first flash bank, 64 MiB at 0, holds -bios.
        constexpr std::uint64_t kFlashSize = 64 * kMiB;
        if (in.firmware->payload.size() > kFlashSize)
            throw Error(fmt::format("qemu layout: the firmware is {} bytes, more than virt's 64 MiB flash bank",
                                    in.firmware->payload.size()), 0, in.firmware->payload.name());
        layout.other_memory.push_back({0, kFlashSize, "flash (firmware)"});
        layout.loads.push_back({0, in.firmware->payload, "firmware"});
        dtb = kRamBase;
        layout.pc = 0;
    }
    layout.x0 = in.firmware ? 0 : dtb;

    layout.devices = qemu_devices(spec.vcpus.count, high);
    if (in.dtb) {
        check_dtb_used_as_is(in.dtb->payload.bytes(), in.dtb->payload.name(), spec.cmdline, spec.vcpus.count);
        layout.loads.push_back({dtb, in.dtb->payload, "dtb"});
    } else {
        DtbInputs tree;
        tree.ram_base = kRamBase;
        tree.ram_size = layout.ram_size;
        tree.vcpus = spec.vcpus.count;
        if (!spec.cmdline.empty()) tree.bootargs = spec.cmdline;
        tree.initrd = initrd;
        tree.pmu = in.pmu;
        layout.loads.push_back(
            {dtb, Payload::from_bytes(qemu_dtb(tree, layout.devices), "QEMU virt device tree"), "dtb"});
    }
    for (const auto& load : layout.loads)
        if (load.gpa >= kRamBase && load.gpa + load.data.size() > kRamBase + layout.ram_size)
            throw Error(fmt::format("qemu layout: the {} at {:#x} ({} bytes) ends beyond guest RAM", load.label,
                                    load.gpa, load.data.size()));
    return layout;
}

} // namespace cvm::cca
