#include "backends/riscv-cove/cove_planner.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "backends/riscv-cove/cove_config.hpp"
#include "backends/riscv-cove/cove_uapi.hpp"
#include "backends/riscv-cove/salus_model.hpp"
#include "cvm/error.hpp"
#include "libcvm/riscv64/host_values.hpp"
#include "libcvm/riscv64/kernel_image.hpp"
#include "libcvm/riscv64/machine.hpp"
#include "libcvm/riscv64/machine_fdt.hpp"

namespace cvm::cove {
namespace {

// A CoVE TVM's interrupt controller is the AIA IMSIC kvmtool creates only
// where Ssaia is usable; without it kvmtool falls back to a PLIC, whose tree
// libcvm does not model.
riscv64::Isa checked_isa(const std::string& text) {
    riscv64::Isa isa = riscv64::parse_isa(text);
    if (!isa.has("ssaia"))
        throw Error(fmt::format("isa '{}': a CoVE TVM's interrupt controller is the AIA IMSIC, so the string must have "
                                "_ssaia (without it kvmtool describes a PLIC, which is not modelled)", text),
                    0, "option isa");
    return isa;
}

// Linux's KVM AIA accepts an IMSIC id count of 63 to 2047 whose low six
// bits are all set (ids come in blocks of 64, id 0 is reserved).
std::uint32_t checked_num_ids(const std::string& text) {
    auto ids = static_cast<std::uint32_t>(parse_unsigned(text, "option imsic-num-ids", 63, 2047));
    if (ids < 63 || ids > 2047 || (ids & 63) != 63)
        throw Error(fmt::format("imsic-num-ids '{}': expected 63 to 2047 of the form 64k - 1 (63, 127, 255, ...)", text), 0,
                    "option imsic-num-ids");
    return ids;
}

std::uint32_t checked_cbom(const std::string& text) {
    auto size = static_cast<std::uint32_t>(parse_unsigned(text, "option cbom-block-size", 1, 0xffffffff));
    if ((size & (size - 1)) != 0)
        throw Error(fmt::format("cbom-block-size '{}': expected a power of two in bytes", text), 0,
                    "option cbom-block-size");
    return size;
}

} // namespace

LaunchPlan build_cove_plan(const VmSpec& spec, const std::map<std::string, std::string>& options) {
    for (const auto& image : spec.images)
        if (image.role == ImageRole::firmware || image.role == ImageRole::blob)
            throw Error(fmt::format("the riscv-cove backend boots a kernel directly and takes no {} image",
                                    to_string(image.role)), 0, image.payload.name());
    for (const auto& image : spec.images)
        if (!image.measured)
            throw Error("every image of a TVM is measured: the TSM maps no unmeasured page before finalize", 0,
                        image.payload.name());
    const ImageSpec* kernel = spec.image(ImageRole::kernel);
    if (!kernel) throw Error("the riscv-cove backend needs a kernel (a RISC-V Image)");
    if (spec.vcpus.count == 0 || spec.vcpus.count > kSalusMaxVcpus)
        throw Error(fmt::format("{} vCPUs requested: a Salus TVM has 1 to {} (VM_CPUS_MAX; TvmCpuCreate refuses vCPU "
                                "id {} and above)", spec.vcpus.count, kSalusMaxVcpus, kSalusMaxVcpus));

    // bootargs is a C string in kvmtool (-p) and in the DTB.
    if (auto nul = spec.cmdline.find('\0'); nul != std::string::npos)
        throw Error(fmt::format("the command line has a NUL byte at {}: bootargs is a C string", nul), nul, "cmdline");
    TsmAbi abi = parse_tsm_abi(options.at("tsm-abi"));
    const std::string& kernel_name = kernel->payload.name();
    RiscvImage image = riscv64::check_riscv_kernel(kernel->payload.bytes(), kernel_name);
    riscv64::BootLayout layout = riscv64::place_boot_images(spec, image, kernel->payload.size(), kernel_name);

    std::vector<std::uint8_t> fdt;
    std::string fdt_label = "fdt";
    std::optional<std::uint32_t> planned_num_ids;  // what the generated DTB declares
    if (const ImageSpec* dtb = spec.image(ImageRole::dtb)) {
        fdt = riscv64::adapt_user_fdt(dtb->payload.bytes(), dtb->payload.name(), spec.cmdline, layout.initrd);
        fdt_label = "fdt (from " + dtb->payload.name() + ")";
    } else {
        riscv64::FdtInputs in;
        in.devices = riscv64::tvm_devices(spec.vcpus.count);
        in.ram_base = riscv64::kRamBase;
        in.ram_size = layout.ram_size;
        in.vcpus = spec.vcpus.count;
        riscv64::Isa isa = checked_isa(options.at("isa"));
        in.isa = isa.text;
        // kvmtool asks KVM for the block size only when it lists Zicbom.
        std::uint32_t cbom = checked_cbom(options.at("cbom-block-size"));
        if (isa.has("zicbom")) in.cbom_block_size = cbom;
        in.timebase_frequency = riscv64::parse_timebase_frequency(options.at("timebase-frequency"));
        in.imsic_num_ids = checked_num_ids(options.at("imsic-num-ids"));
        planned_num_ids = in.imsic_num_ids;
        in.cmdline = spec.cmdline;
        in.initrd = layout.initrd;
        fdt = riscv64::build_fdt(in);
    }

    LaunchPlan plan("riscv-cove", HashAlgorithm::sha384);
    auto config = std::make_shared<TvmConfig>();
    config->tsm_abi = abi;
    config->add_measured_pages_fid = covh_function_ids(abi).add_measured_pages;
    // The host's AIA id count the DTB declares, which the launcher programs
    // (a user's DTB declares its own, which it cannot).
    config->imsic_num_ids = planned_num_ids;
    plan.add(op::CreateVm{std::move(config)});
    plan.add(op::AddMemory{riscv64::kRamBase, layout.ram_size, true, "ram (the TVM's confidential region)"});
    for (auto& device : riscv64::tvm_devices(spec.vcpus.count)) plan.add(std::move(device));
    plan.add(op::LoadData{layout.kernel, kernel->payload, true, "kernel", {}});
    if (const ImageSpec* initrd = spec.image(ImageRole::initrd))
        plan.add(op::LoadData{layout.initrd->start, initrd->payload, true, "initrd", {}});
    // kvmtool creates the vCPUs before it writes and measures the FDT.
    plan.add(op::CreateVcpus{spec.vcpus.count});
    plan.add(op::LoadData{layout.fdt, Payload::from_bytes(std::move(fdt), "guest DTB"), true, fdt_label, {}});
    plan.add(op::SetRegisters{0, {{"pc", layout.kernel}, {"a0", 0}, {"a1", layout.fdt}}});
    plan.add(op::Finalize{});
    return plan;
}

} // namespace cvm::cove
