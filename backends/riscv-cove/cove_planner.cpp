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

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

bool overlaps(std::uint64_t a, std::uint64_t a_size, std::uint64_t b, std::uint64_t b_size) {
    return a < b + b_size && b < a + a_size;
}

// What riscv,isa can be in kvmtool's DTB (riscv/fdt.c generate_cpu_nodes):
// "rv64", the single-letter extensions KVM reports in kvmtool's fixed order,
// then "_name" for each multi-letter extension of its table that KVM
// reports, in table order. Anything else is not a kvmtool TVM.
constexpr std::string_view kLetterOrder = "iemafdqclbjtpvnsuhkorwxyzg";
constexpr std::string_view kExtensionOrder[] = {"ssaia", "svpbmt", "sstc", "svinval", "zihintpause", "zicbom"};

struct Isa {
    std::string text;
    bool zicbom = false;
};

Isa checked_isa(const std::string& isa) {
    auto refuse = [&](const std::string& why) {
        return Error(fmt::format("isa '{}': {}; kvmtool writes \"rv64\", single letters in the order '{}', then "
                                 "'_ext' for any of ssaia, svpbmt, sstc, svinval, zihintpause, zicbom in that order "
                                 "(e.g. rv64imafdc_ssaia_sstc)", isa, why, kLetterOrder),
                     0, "option isa");
    };
    if (isa.rfind("rv64", 0) != 0) throw refuse("expected an RV64 string starting with 'rv64'");
    std::size_t pos = 4;
    std::size_t letter = 0;
    while (pos < isa.size() && isa[pos] != '_') {
        std::size_t at = kLetterOrder.find(isa[pos], letter);
        if (at == std::string_view::npos) throw refuse(fmt::format("'{}' is out of order, repeated or not an extension letter", isa[pos]));
        letter = at + 1;
        ++pos;
    }
    Isa out{isa, false};
    std::size_t next = 0;
    while (pos < isa.size()) {
        std::size_t stop = isa.find('_', pos + 1);
        std::string_view name = std::string_view(isa).substr(pos + 1, stop == std::string::npos ? std::string::npos : stop - pos - 1);
        std::size_t i = next;
        while (i < std::size(kExtensionOrder) && kExtensionOrder[i] != name) ++i;
        if (i == std::size(kExtensionOrder))
            throw refuse(fmt::format("'{}' is out of order, repeated or not an extension kvmtool reports", name));
        out.zicbom |= name == "zicbom";
        next = i + 1;
        pos = stop == std::string::npos ? isa.size() : stop;
    }
    // kvmtool creates the AIA irqchip only where Ssaia is usable; without it
    // it falls back to a PLIC, whose tree libcvm does not model.
    if (isa.find("_ssaia") == std::string::npos)
        throw refuse("a CoVE TVM's interrupt controller is the AIA IMSIC, so the string must have _ssaia (without it "
                     "kvmtool describes a PLIC, which is not modelled)");
    return out;
}

std::uint32_t checked_u32(const std::string& text, const char* option, const char* what) {
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value == 0)
        throw Error(fmt::format("{} '{}': expected {}", option, text, what), 0, fmt::format("option {}", option));
    return value;
}

// Linux's KVM AIA accepts an IMSIC id count of 63 to 2047 whose low six
// bits are all set (ids come in blocks of 64, id 0 is reserved).
std::uint32_t checked_num_ids(const std::string& text) {
    std::uint32_t ids = checked_u32(text, "imsic-num-ids", "a decimal count 63 to 2047 of the form 64k - 1");
    if (ids < 63 || ids > 2047 || (ids & 63) != 63)
        throw Error(fmt::format("imsic-num-ids '{}': expected 63 to 2047 of the form 64k - 1 (63, 127, 255, ...)", text), 0,
                    "option imsic-num-ids");
    return ids;
}

std::uint32_t checked_cbom(const std::string& text) {
    std::uint32_t size = checked_u32(text, "cbom-block-size", "a power of two in bytes");
    if ((size & (size - 1)) != 0)
        throw Error(fmt::format("cbom-block-size '{}': expected a power of two in bytes", text), 0,
                    "option cbom-block-size");
    return size;
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
    if (spec.vcpus.count == 0 || spec.vcpus.count > kSalusMaxVcpus)
        throw Error(fmt::format("{} vCPUs requested: a Salus TVM has 1 to {} (VM_CPUS_MAX; TvmCpuCreate refuses vCPU "
                                "id {} and above)", spec.vcpus.count, kSalusMaxVcpus, kSalusMaxVcpus));

    // bootargs is a C string in kvmtool (-p) and in the DTB.
    if (auto nul = spec.cmdline.find('\0'); nul != std::string::npos)
        throw Error(fmt::format("the command line has a NUL byte at {}: bootargs is a C string", nul), nul, "cmdline");
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
        Isa isa = checked_isa(options.at("isa"));
        in.isa = isa.text;
        // kvmtool asks KVM for the block size only when it lists Zicbom.
        std::uint32_t cbom = checked_cbom(options.at("cbom-block-size"));
        if (isa.zicbom) in.cbom_block_size = cbom;
        in.timebase_frequency =
            checked_u32(options.at("timebase-frequency"), "timebase-frequency", "a decimal frequency in Hz, 1 to 4294967295");
        in.imsic_num_ids = checked_num_ids(options.at("imsic-num-ids"));
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
