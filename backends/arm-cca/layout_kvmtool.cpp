// kvmtool-cca's realm layout (cca-realm-measurements src/kvmtool.rs):
// RAM at 2 GiB; kernel at RAM + text_offset, or firmware at RAM; a 64 KiB DTB
// 2 MiB below min(RAM end, RAM + 256 MiB), 2 MiB aligned; the initrd right
// below the DTB, 4-byte aligned. PC is the RAM base, X0 the DTB.
#include <algorithm>

#include <fmt/format.h>

#include "backends/arm-cca/layout.hpp"
#include "backends/arm-cca/realm_dtb.hpp"
#include "cvm/error.hpp"

namespace cvm::cca {
namespace {

constexpr std::uint64_t kRamBase = 0x80000000;
constexpr std::uint64_t kDtbLimit = kRamBase + (256ull << 20);
constexpr std::uint64_t kDtbAlign = 2ull << 20;
constexpr std::uint64_t kInitrdAlign = 4;
constexpr const char* kBootargsPrefix = " console=hvc0 root=/dev/vda rw ";

} // namespace

RealmLayout kvmtool_layout(const LayoutInputs& in) {
    const VmSpec& spec = *in.spec;
    RealmLayout layout;
    layout.ram_base = kRamBase;
    layout.ram_size = spec.memory.size;
    if (layout.ram_size == 0 || layout.ram_size % (2ull << 20))
        throw Error(fmt::format("kvmtool layout: guest memory of {} bytes is not a multiple of 2 MiB",
                                layout.ram_size));
    const std::uint64_t ram_end = kRamBase + layout.ram_size;
    layout.ipa_bits = std::max(ilog2(ram_end - 1), 32u) + 1;
    layout.default_hash = HashAlgorithm::sha256;

    const std::uint64_t dtb = align_up(std::min(ram_end, kDtbLimit) - kDtbAlign - kKvmtoolDtbSize, kDtbAlign);
    layout.x0 = dtb;

    if (in.kernel && in.firmware)
        throw Error("kvmtool layout: the kernel and the firmware would both load at the RAM base");
    if (in.kernel) {
        Arm64Image image = realm_kernel(*in.kernel);
        layout.pc = kRamBase;
        layout.loads.push_back({kRamBase + image.text_offset, in.kernel->payload, "kernel"});
    }
    if (in.firmware) {
        layout.pc = kRamBase;
        layout.loads.push_back({kRamBase, in.firmware->payload, "firmware"});
    }

    std::optional<std::pair<std::uint64_t, std::uint64_t>> initrd;
    if (in.initrd) {
        const std::uint64_t size = in.initrd->payload.size();
        if (size == 0 || size + kInitrdAlign > dtb - kRamBase)
            throw Error(fmt::format("kvmtool layout: an initrd of {} bytes does not fit below the DTB at {:#x}",
                                    size, dtb), 0, in.initrd->payload.name());
        const std::uint64_t start = align_up(dtb - size - kInitrdAlign, kInitrdAlign);
        initrd.emplace(start, size);
        layout.loads.push_back({start, in.initrd->payload, "initrd"});
    }

    layout.devices = kvmtool_devices(spec.vcpus.count);
    if (in.dtb) {
        if (in.dtb->payload.size() > kKvmtoolDtbSize)
            throw Error(fmt::format("kvmtool layout: the DTB is {} bytes, more than kvmtool's 64 KiB area",
                                    in.dtb->payload.size()), 0, in.dtb->payload.name());
        check_dtb_used_as_is(in.dtb->payload.bytes(), in.dtb->payload.name(), spec.cmdline, spec.vcpus.count);
        layout.loads.push_back({dtb, in.dtb->payload, "dtb"});
    } else {
        DtbInputs tree;
        tree.ram_base = kRamBase;
        tree.ram_size = layout.ram_size;
        tree.vcpus = spec.vcpus.count;
        tree.bootargs = spec.cmdline.empty() ? std::string(kBootargsPrefix)
                                             : std::string(kBootargsPrefix) + " " + spec.cmdline;
        tree.initrd = initrd;
        tree.pmu = in.pmu;
        layout.loads.push_back(
            {dtb, Payload::from_bytes(kvmtool_dtb(tree, layout.devices), "kvmtool device tree"), "dtb"});
    }
    for (const auto& load : layout.loads)
        if (load.gpa + load.data.size() > ram_end)
            throw Error(fmt::format("kvmtool layout: the {} at {:#x} ({} bytes) ends beyond guest RAM at {:#x}",
                                    load.label, load.gpa, load.data.size(), ram_end));
    return layout;
}

} // namespace cvm::cca
