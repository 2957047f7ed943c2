#include "backends/riscv-cove/cove_planner.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "backends/riscv-cove/cove_fdt.hpp"
#include "backends/riscv-cove/cove_layout.hpp"
#include "backends/riscv-cove/cove_uapi.hpp"
#include "backends/riscv-cove/riscv_kernel.hpp"
#include "cvm/error.hpp"

namespace cvm::cove {
namespace {

// KVM_MAX_VCPUS on RISC-V.
constexpr unsigned kMaxVcpus = 1024;

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

bool overlaps(std::uint64_t a, std::uint64_t a_size, std::uint64_t b, std::uint64_t b_size) {
    return a < b + b_size && b < a + a_size;
}

// riscv,isa is measured (it is in the DTB) and read by Linux: accept only a
// lower-case RV64 string such as "rv64imafdc_zicsr_zifencei".
std::string checked_isa(const std::string& isa) {
    bool charset = std::all_of(isa.begin(), isa.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!charset || isa.rfind("rv64i", 0) != 0)
        throw Error(fmt::format("isa '{}': expected an RV64 ISA string like 'rv64imafdc' (lower case, "
                                "extensions joined by '_')", isa), 0, "option isa");
    return isa;
}

std::uint32_t checked_frequency(const std::string& text) {
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value == 0)
        throw Error(fmt::format("timebase-frequency '{}': expected a decimal frequency in Hz, 1 to 4294967295", text),
                    0, "option timebase-frequency");
    return value;
}

struct Layout {
    std::uint64_t ram_size = 0;
    std::uint64_t kernel = 0;
    std::uint64_t fdt = 0;
    std::optional<InitrdRange> initrd;
};

// kvmtool's kvm__arch_load_kernel_image, with the overlaps it does not
// check made errors: a layout that would let the kernel's .bss, the FDT and
// the initrd overwrite each other is refused, not measured.
Layout place(const VmSpec& spec, const RiscvImage& image, std::uint64_t kernel_size, const std::string& kernel_name) {
    Layout l;
    l.ram_size = spec.memory.size;
    if (l.ram_size % kPageSize != 0 || l.ram_size > kMaxRam)
        throw Error(fmt::format("guest memory of {:#x} bytes: expected a multiple of 4 KiB up to {:#x}", l.ram_size,
                                kMaxRam), 0, "memory");
    // Highest usable byte for the kernel, FDT and initrd (kvmtool's `limit`).
    std::uint64_t limit = kRamBase + std::min(l.ram_size, kLowmemWindow) - 1;
    l.kernel = kRamBase + kKernelOffset;
    if (l.kernel >= limit || kernel_size > limit - l.kernel)
        throw Error(fmt::format("the kernel ({} bytes at {:#x}) does not fit below {:#x}; give the guest more memory",
                                kernel_size, l.kernel, limit + 1), 0, kernel_name);
    std::uint64_t kernel_end = l.kernel + kernel_size;
    l.fdt = align_up(kernel_end + kFdtAlign, kFdtAlign);
    if (image.image_size > l.fdt - l.kernel)
        throw Error(fmt::format("the kernel's image_size {:#x} (with .bss) reaches past the FDT at {:#x}", image.image_size,
                                l.fdt), 0, kernel_name);
    if (l.fdt + kFdtSize - 1 > limit)
        throw Error(fmt::format("the 64 KiB FDT at {:#x} does not fit below {:#x}; give the guest more memory", l.fdt,
                                limit + 1), 0, kernel_name);

    if (const ImageSpec* initrd = spec.image(ImageRole::initrd)) {
        std::uint64_t size = initrd->payload.size();
        const std::string& name = initrd->payload.name();
        if (size == 0) throw Error("the initrd is empty", 0, name);
        if (size + kInitrdAlign > limit - kernel_end)
            throw Error(fmt::format("the initrd ({} bytes) does not fit between the kernel's end {:#x} and {:#x}",
                                    size, kernel_end, limit + 1), 0, name);
        std::uint64_t start = align_up(limit - (size + kInitrdAlign), kInitrdAlign);
        if (overlaps(start, size, l.fdt, kFdtSize) || overlaps(start, size, l.kernel, image.image_size))
            throw Error(fmt::format("the initrd at {:#x}+{:#x} would overlap the kernel or the FDT at {:#x}; give the "
                                    "guest more memory", start, size, l.fdt), 0, name);
        l.initrd = InitrdRange{start, start + size};
    }
    return l;
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
    if (spec.vcpus.count == 0 || spec.vcpus.count > kMaxVcpus)
        throw Error(fmt::format("{} vCPUs requested: RISC-V KVM supports 1 to {}", spec.vcpus.count, kMaxVcpus));

    TsmAbi abi = parse_tsm_abi(options.at("tsm-abi"));
    const std::string& kernel_name = kernel->payload.name();
    RiscvImage image = check_riscv_kernel(kernel->payload.bytes(), kernel_name);
    Layout layout = place(spec, image, kernel->payload.size(), kernel_name);

    std::vector<std::uint8_t> fdt;
    std::string fdt_label = "fdt";
    if (const ImageSpec* dtb = spec.image(ImageRole::dtb)) {
        fdt = adapt_user_fdt(dtb->payload.bytes(), dtb->payload.name(), spec.cmdline, layout.initrd);
        fdt_label = "fdt (from " + dtb->payload.name() + ")";
    } else {
        FdtInputs in;
        in.ram_base = kRamBase;
        in.ram_size = layout.ram_size;
        in.vcpus = spec.vcpus.count;
        in.isa = checked_isa(options.at("isa"));
        in.mmu_type = "riscv," + options.at("mmu-type");
        in.timebase_frequency = checked_frequency(options.at("timebase-frequency"));
        in.cmdline = spec.cmdline;
        in.initrd = layout.initrd;
        fdt = build_fdt(in);
    }

    LaunchPlan plan("riscv-cove", HashAlgorithm::sha384);
    plan.add(op::CreateVm{{
        {"arch", "riscv64"},
        {"vm-type", fmt::format("{:#x}", kVmTypeRiscvCove)},
        {"tsm-abi", std::string(to_string(abi))},
        {"covh-add-measured-pages-fid", std::to_string(covh_function_ids(abi).add_measured_pages)},
        {"measurement-model", "salus"},
    }});
    plan.add(op::AddMemory{kRamBase, layout.ram_size, true, "ram (the TVM's confidential region)"});
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
