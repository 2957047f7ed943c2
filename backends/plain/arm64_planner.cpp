#include "backends/plain/arm64_planner.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "backends/plain/plain_config.hpp"
#include "cvm/error.hpp"
#include "libcvm/arm64/libcvm_machine.hpp"

namespace cvm::arm64 {

bool is_arm64_image(ByteSpan kernel) {
    constexpr std::size_t kMagicOffset = 0x38;
    return kernel.size() >= kMagicOffset + 4 && std::memcmp(kernel.data() + kMagicOffset, "ARM\x64", 4) == 0;
}

LaunchPlan build_plain_plan(const VmSpec& spec) {
    for (const auto& image : spec.images)
        if (image.role == ImageRole::firmware)
            throw Error("the plain arm64 backend boots the kernel directly and takes no firmware", 0,
                        image.payload.name());
    if (spec.vcpus.count == 0 || spec.vcpus.count > kMaxVcpus)
        throw Error(fmt::format("{} vCPUs requested: the plain arm64 backend supports 1 to {} (KVM gives vCPU i "
                                "the MPIDR the device tree names only below 16)", spec.vcpus.count, kMaxVcpus));

    BootInputs in;
    in.spec = &spec;
    in.kernel = spec.image(ImageRole::kernel);
    in.initrd = spec.image(ImageRole::initrd);
    in.dtb = spec.image(ImageRole::dtb);
    in.conduit = PsciConduit::hvc;  // KVM's own PSCI
    in.model = "linux,dummy-virt";
    if (in.initrd && in.initrd->payload.size() == 0) throw Error("the initrd is empty", 0, in.initrd->payload.name());
    BootLayout layout = libcvm_boot_layout(in);

    LaunchPlan plan("plain", HashAlgorithm::sha256);
    auto config = std::make_shared<plain::Arm64Config>();
    config->ipa_bits = layout.ipa_bits;
    plan.add(op::CreateVm{std::move(config)});
    plan.add(op::AddMemory{layout.ram_base, layout.ram_size, false, "ram"});
    for (auto& device : layout.devices) plan.add(std::move(device));
    // Ascending guest-physical order, as in the realm plan of the same layout.
    std::stable_sort(layout.loads.begin(), layout.loads.end(),
                     [](const auto& a, const auto& b) { return a.gpa < b.gpa; });
    for (auto& load : layout.loads) plan.add(op::LoadData{load.gpa, load.data, load.measured, load.label, {}});
    for (const auto& image : spec.images) {
        if (image.role != ImageRole::blob) continue;
        if (!image.gpa) throw Error("a blob image needs a load address", 0, image.payload.name());
        plan.add(op::LoadData{*image.gpa, image.payload, image.measured, "blob", {}});
    }
    plan.add(op::CreateVcpus{spec.vcpus.count});
    // The arm64 boot protocol: X0 the DTB, X1-X3 zero, MMU and caches off
    // (KVM's vCPU reset state), PSTATE EL1h with interrupts masked.
    plan.add(op::SetRegisters{0, {{"pc", layout.pc}, {"x0", layout.x0}, {"x1", 0}, {"x2", 0}, {"x3", 0},
                                  {"pstate", kBootPstate}}});
    plan.add(op::Finalize{});
    plan.check_layout();
    return plan;
}

} // namespace cvm::arm64
