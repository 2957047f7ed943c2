// libcvm's own realm layout: libcvm's arm64 machine (RAM at 2 GiB; the
// kernel at RAM + text_offset; the DTB at the first 2 MiB boundary after the
// kernel's image_size; the initrd 2 MiB after the DTB; PC the kernel entry,
// X0 the DTB), the same placement the plain backend boots on ordinary KVM.
#include "backends/arm-cca/layout.hpp"
#include "cvm/error.hpp"
#include "libcvm/arm64/libcvm_machine.hpp"

namespace cvm::cca {

RealmLayout libcvm_layout(const LayoutInputs& in) {
    if (!in.kernel) throw Error("libcvm layout: a realm needs a kernel (an arm64 Image)");
    if (in.firmware) throw Error("libcvm layout: boots the kernel directly and takes no firmware");
    arm64::BootInputs boot;
    boot.spec = in.spec;
    boot.kernel = in.kernel;
    boot.initrd = in.initrd;
    boot.dtb = in.dtb;
    boot.pmu = in.pmu;
    boot.conduit = arm64::PsciConduit::smc;  // the RMM's PSCI
    arm64::BootLayout placed = arm64::libcvm_boot_layout(boot);

    RealmLayout layout;
    layout.ram_base = placed.ram_base;
    layout.ram_size = placed.ram_size;
    layout.ipa_bits = placed.ipa_bits;
    layout.default_hash = HashAlgorithm::sha256;
    for (auto& load : placed.loads) layout.loads.push_back({load.gpa, std::move(load.data), std::move(load.label)});
    layout.devices = std::move(placed.devices);
    layout.pc = placed.pc;
    layout.x0 = placed.x0;
    return layout;
}

} // namespace cvm::cca
