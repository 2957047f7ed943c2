// libcvm's own realm layout: RAM at 2 GiB; the kernel at RAM +
// text_offset; the DTB at the first 2 MiB boundary after the kernel's
// image_size; the initrd 2 MiB after the DTB (the kernel limits a DTB to
// 2 MiB). PC is the kernel entry, X0 the DTB.
#include <algorithm>

#include <fmt/format.h>

#include "backends/arm-rme/layout.hpp"
#include "backends/arm-rme/realm_dtb.hpp"
#include "cvm/error.hpp"

namespace cvm::cca {
namespace {

constexpr std::uint64_t kRamBase = 0x80000000;
constexpr std::uint64_t kDtbMax = 2ull << 20;

} // namespace

RealmLayout libcvm_layout(const LayoutInputs& in) {
    const VmSpec& spec = *in.spec;
    if (!in.kernel) throw Error("libcvm layout: a realm needs a kernel (an arm64 Image)");
    if (in.firmware) throw Error("libcvm layout: boots the kernel directly and takes no firmware");
    RealmLayout layout;
    layout.ram_base = kRamBase;
    layout.ram_size = spec.memory.size;
    if (layout.ram_size == 0 || layout.ram_size % (2ull << 20))
        throw Error(fmt::format("libcvm layout: guest memory of {} bytes is not a multiple of 2 MiB",
                                layout.ram_size));
    const std::uint64_t ram_end = kRamBase + layout.ram_size;
    layout.ipa_bits = std::max(ilog2(ram_end - 1), 32u) + 1;
    layout.default_hash = HashAlgorithm::sha256;

    Arm64Image image = realm_kernel(*in.kernel);
    const std::uint64_t kernel = kRamBase + image.text_offset;
    layout.pc = kernel;
    layout.loads.push_back({kernel, in.kernel->payload, "kernel"});
    const std::uint64_t dtb = align_up(kernel + std::max<std::uint64_t>(image.image_size, in.kernel->payload.size()),
                                       kDtbMax);
    layout.x0 = dtb;
    const std::uint64_t initrd_start = dtb + kDtbMax;

    std::optional<std::pair<std::uint64_t, std::uint64_t>> initrd;
    if (in.initrd) {
        initrd.emplace(initrd_start, in.initrd->payload.size());
        layout.loads.push_back({initrd_start, in.initrd->payload, "initrd"});
    }
    if (in.dtb) {
        if (in.dtb->payload.size() > kDtbMax)
            throw Error(fmt::format("the DTB is {} bytes; Linux accepts at most 2 MiB", in.dtb->payload.size()), 0,
                        in.dtb->payload.name());
        check_dtb(in.dtb->payload.bytes(), in.dtb->payload.name());
        layout.loads.push_back({dtb, in.dtb->payload, "dtb"});
    } else {
        DtbInputs tree;
        tree.ram_base = kRamBase;
        tree.ram_size = layout.ram_size;
        tree.vcpus = spec.vcpus.count;
        if (!spec.cmdline.empty()) tree.bootargs = spec.cmdline;
        tree.initrd = initrd;
        tree.pmu = in.pmu;
        layout.loads.push_back({dtb, Payload::from_bytes(libcvm_dtb(tree), "libcvm device tree"), "dtb"});
    }
    for (const auto& load : layout.loads)
        if (load.gpa + load.data.size() > ram_end)
            throw Error(fmt::format("libcvm layout: the {} at {:#x} ({} bytes) ends beyond guest RAM at {:#x}; "
                                    "give the realm more memory", load.label, load.gpa, load.data.size(), ram_end));
    return layout;
}

} // namespace cvm::cca
