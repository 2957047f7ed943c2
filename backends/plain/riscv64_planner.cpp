#include "backends/plain/riscv64_planner.hpp"

#include <fmt/format.h>

#include "backends/plain/plain_config.hpp"
#include "cvm/error.hpp"
#include "libcvm/riscv64/host_values.hpp"
#include "libcvm/riscv64/kernel_image.hpp"
#include "libcvm/riscv64/machine.hpp"
#include "libcvm/riscv64/machine_fdt.hpp"

namespace cvm::riscv64 {
namespace {

// The plain machine has no AIA device, so the harts must not claim Ssaia;
// Zicbom would need riscv,cbom-block-size, a host value the plain options
// do not carry.
Isa checked_plain_isa(const std::string& text) {
    Isa isa = parse_isa(text);
    for (const char* refused : {"ssaia", "zicbom"})
        if (isa.has(refused))
            throw Error(fmt::format("isa '{}': the plain riscv64 machine does not offer _{} ({})", text, refused,
                                    std::string_view(refused) == "ssaia"
                                        ? "it has no AIA interrupt controller"
                                        : "its DTB carries no riscv,cbom-block-size"),
                        0, "option isa");
    for (char needed : std::string_view("imafd"))
        if (isa.letters.find(needed) == std::string::npos)
            throw Error(fmt::format("isa '{}': lacks '{}'; a Debian riscv64 kernel and user space need at least "
                                    "rv64imafd", text, needed), 0, "option isa");
    return isa;
}

} // namespace

std::vector<OptionInfo> plain_options() {
    return {
        {"isa", "riscv64 guests: riscv,isa of every hart (kvmtool's form); the launcher checks KVM offers each "
                "extension", "rv64imafdc", {}},
        {"timebase-frequency", "riscv64 guests: timebase-frequency in Hz; the launcher checks KVM's timer reports it",
         "10000000", {}, OptionKind::number},
    };
}

LaunchPlan build_plain_plan(const VmSpec& spec, const std::map<std::string, std::string>& options) {
    for (const auto& image : spec.images)
        if (image.role == ImageRole::firmware)
            throw Error("the plain riscv64 backend boots the kernel directly and takes no firmware", 0,
                        image.payload.name());
    const ImageSpec* kernel = spec.image(ImageRole::kernel);
    if (!kernel) throw Error("the plain riscv64 backend needs a kernel (a RISC-V Image)");
    if (spec.vcpus.count == 0 || spec.vcpus.count > kPlainMaxVcpus)
        throw Error(fmt::format("{} vCPUs requested: the plain riscv64 backend supports 1 to {} (the harts' DTB "
                                "nodes must fit its 64 KiB)", spec.vcpus.count, kPlainMaxVcpus));
    if (auto nul = spec.cmdline.find('\0'); nul != std::string::npos)
        throw Error(fmt::format("the command line has a NUL byte at {}: bootargs is a C string", nul), nul, "cmdline");

    const std::string& kernel_name = kernel->payload.name();
    RiscvImage image = check_riscv_kernel(kernel->payload.bytes(), kernel_name);
    BootLayout layout = place_boot_images(spec, image, kernel->payload.size(), kernel_name);
    const Isa isa = checked_plain_isa(options.at("isa"));
    const std::uint32_t timebase = parse_timebase_frequency(options.at("timebase-frequency"));

    std::vector<std::uint8_t> fdt;
    std::string fdt_label = "fdt";
    if (const ImageSpec* dtb = spec.image(ImageRole::dtb)) {
        fdt = adapt_user_fdt(dtb->payload.bytes(), dtb->payload.name(), spec.cmdline, layout.initrd);
        fdt_label = "fdt (from " + dtb->payload.name() + ")";
    } else {
        FdtInputs in;
        in.devices = plain_devices();
        in.ram_base = kRamBase;
        in.ram_size = layout.ram_size;
        in.vcpus = spec.vcpus.count;
        in.cmdline = spec.cmdline;
        in.initrd = layout.initrd;
        in.isa = isa.text;
        in.timebase_frequency = timebase;
        fdt = build_fdt(in);
    }

    LaunchPlan plan("plain", HashAlgorithm::sha256);
    auto config = std::make_shared<plain::Riscv64Config>();
    config->isa = isa.text;
    config->timebase_frequency = timebase;
    plan.add(op::CreateVm{std::move(config)});
    plan.add(op::AddMemory{kRamBase, layout.ram_size, false, "ram"});
    for (auto& device : plain_devices()) plan.add(std::move(device));
    plan.add(op::LoadData{layout.kernel, kernel->payload, kernel->measured, "kernel", {}});
    if (const ImageSpec* initrd = spec.image(ImageRole::initrd))
        plan.add(op::LoadData{layout.initrd->start, initrd->payload, initrd->measured, "initrd", {}});
    for (const auto& blob : spec.images) {
        if (blob.role != ImageRole::blob) continue;
        if (!blob.gpa) throw Error("a blob image needs a load address", 0, blob.payload.name());
        plan.add(op::LoadData{*blob.gpa, blob.payload, blob.measured, "blob", {}});
    }
    plan.add(op::CreateVcpus{spec.vcpus.count});
    const ImageSpec* dtb = spec.image(ImageRole::dtb);
    plan.add(op::LoadData{layout.fdt, Payload::from_bytes(std::move(fdt), "guest DTB"), dtb ? dtb->measured : true,
                          fdt_label, {}});
    // The RISC-V Linux boot protocol: a0 the hart id, a1 the DTB, in S-mode
    // with the MMU off (KVM's vCPU reset state).
    plan.add(op::SetRegisters{0, {{"pc", layout.kernel}, {"a0", 0}, {"a1", layout.fdt}}});
    plan.add(op::Finalize{});
    plan.check_layout();
    return plan;
}

} // namespace cvm::riscv64
