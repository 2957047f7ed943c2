#include "backends/plain/plain_planner.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "backends/plain/acpi_tables.hpp"
#include "backends/plain/plain_config.hpp"
#include "backends/plain/x86_boot.hpp"
#include "backends/plain/x86_layout.hpp"
#include "cvm/error.hpp"
#include "cvm/image.hpp"
#include "libcvm/core/le.hpp"
#include "libcvm/x86/pc_machine.hpp"
#include "libcvm/x86/registers.hpp"

namespace cvm::x86 {
namespace {

constexpr std::uint64_t kPage = 4096;

std::uint64_t align_down(std::uint64_t value, std::uint64_t alignment) { return value / alignment * alignment; }

// The highest page-aligned address where the initrd fits below both the
// kernel's initrd_addr_max and the end of low RAM, above the kernel's
// decompression footprint.
std::uint64_t place_initrd(const BzImage& kernel, std::uint64_t initrd_size, const RamLayout& ram,
                           const std::string& name) {
    std::uint64_t limit = std::min<std::uint64_t>(std::uint64_t{kernel.initrd_addr_max} + 1, ram.low_size);
    std::uint64_t kernel_end = kKernelAddress + std::max<std::uint64_t>(kernel.init_size, kernel.kernel.size());
    if (initrd_size > limit || align_down(limit - initrd_size, kPage) < kernel_end)
        throw Error(fmt::format("initrd of {} bytes does not fit between the kernel's end {:#x} and {:#x} "
                                "(initrd_addr_max and guest memory); give the guest more memory",
                                initrd_size, kernel_end, limit), 0, name);
    return align_down(limit - initrd_size, kPage);
}

} // namespace

LaunchPlan build_plain_plan(const VmSpec& spec) {
    for (const auto& image : spec.images)
        if (image.role == ImageRole::firmware || image.role == ImageRole::dtb)
            throw Error(fmt::format("the plain x86 backend boots a bzImage directly and takes no {} image",
                                    to_string(image.role)));
    const ImageSpec* kernel_spec = spec.image(ImageRole::kernel);
    if (!kernel_spec) throw Error("the plain backend needs a kernel (a bzImage)");
    if (spec.vcpus.count == 0 || spec.vcpus.count > 255)
        throw Error(fmt::format("{} vCPUs requested: the plain backend supports 1 to 255", spec.vcpus.count));

    const std::string& kernel_name = kernel_spec->payload.name();
    BzImage kernel = parse_bzimage(kernel_spec->payload.bytes(), kernel_name);
    RamLayout ram = split_ram(spec.memory.size);
    if (kKernelAddress + kernel.init_size > ram.low_size)
        throw Error(fmt::format("the kernel needs {:#x} bytes from {:#x} (init_size) but RAM ends at {:#x}",
                                kernel.init_size, kKernelAddress, ram.low_size), 0, kernel_name);

    if (spec.cmdline.size() > kernel.cmdline_size || spec.cmdline.size() >= kCmdlineMax)
        throw Error(fmt::format("command line is {} bytes, the kernel accepts at most {}", spec.cmdline.size(),
                                kernel.cmdline_size), 0, kernel_name);

    const ImageSpec* initrd = spec.image(ImageRole::initrd);
    std::uint64_t initrd_address = 0, initrd_size = 0;
    if (initrd) {
        initrd_size = initrd->payload.size();
        if (initrd_size == 0) throw Error("the initrd is empty", 0, initrd->payload.name());
        initrd_address = place_initrd(kernel, initrd_size, ram, initrd->payload.name());
    }

    LaunchPlan plan("plain", HashAlgorithm::sha256);
    plan.add(op::CreateVm{std::make_shared<plain::X86Config>()});
    plan.add(op::AddMemory{0, ram.low_size, false, "ram below 3 GiB"});
    if (ram.high_size) plan.add(op::AddMemory{kHighRamBase, ram.high_size, false, "ram above 4 GiB"});
    const std::vector<op::AddDevice> devices = pc_devices(/*pit=*/true, /*acpi=*/true);
    for (const auto& device : devices) plan.add(device);

    auto generated = [](std::vector<std::uint8_t> bytes, const char* what) {
        return Payload::from_bytes(std::move(bytes), what);
    };
    const std::vector<std::uint8_t> gdt = build_boot_gdt();
    plan.add(op::LoadData{kGdtAddress, generated(gdt, "boot GDT"), true, "gdt"});
    plan.add(op::LoadData{kPageTablesAddress, generated(build_identity_page_tables(kPageTablesAddress), "identity page tables"),
                          true, "page-tables"});
    plan.add(op::LoadData{kAcpiAddress, generated(build_acpi_tables(kAcpiAddress, spec.vcpus.count, devices), "ACPI tables"),
                          true, "acpi"});
    std::vector<std::uint8_t> cmdline(spec.cmdline.begin(), spec.cmdline.end());
    cmdline.push_back(0);
    plan.add(op::LoadData{kCmdlineAddress, generated(std::move(cmdline), "command line"), true, "cmdline"});

    BootParamsInput boot{&kernel, kCmdlineAddress, initrd_address, initrd_size, kAcpiAddress, e820_map(ram)};
    plan.add(op::LoadData{kBootParamsAddress, generated(build_boot_params(boot), "boot_params"), true, "boot-params"});
    plan.add(op::LoadData{kKernelAddress,
                          kernel_spec->payload.slice(kernel.setup_size, kernel.kernel.size()),
                          kernel_spec->measured, "kernel"});
    if (initrd) plan.add(op::LoadData{initrd_address, initrd->payload, initrd->measured, "initrd"});
    for (const auto& image : spec.images) {
        if (image.role != ImageRole::blob) continue;
        if (!image.gpa) throw Error("a blob image needs a load address", 0, image.payload.name());
        plan.add(op::LoadData{*image.gpa, image.payload, image.measured, "blob"});
    }

    plan.add(op::CreateVcpus{spec.vcpus.count});
    constexpr std::uint64_t kCr0 = 0x80050033;  // PG, AM, WP, NE, ET, MP, PE
    constexpr std::uint64_t kCr4Pae = 0x20;
    constexpr std::uint64_t kEferLmeLma = 0x500;
    std::vector<op::Register> registers{
        {"rip", kKernelAddress + kEntry64Offset},
        {"rsi", kBootParamsAddress},
        {"rflags", 0x2},
        {"cr0", kCr0},
        {"cr3", kPageTablesAddress},
        {"cr4", kCr4Pae},
        {"efer", kEferLmeLma},
        {"gdtr.base", kGdtAddress},
        {"gdtr.limit", gdt.size() - 1},
    };
    // The segment registers as loading the boot GDT's selectors leaves them
    // (Documentation/arch/x86/boot.rst, 64-bit boot protocol: __BOOT_CS and
    // __BOOT_DS, flat, 4 GiB).
    auto from_gdt = [&gdt](std::uint16_t selector) {
        return segment_from_descriptor(le::read<std::uint64_t>(gdt, selector), selector);
    };
    add_segment(registers, "cs", from_gdt(kBootCs));
    for (const char* data : {"ds", "es", "ss"}) add_segment(registers, data, from_gdt(kBootDs));
    // A busy 64-bit TSS: VMX refuses to enter a guest without a usable TR,
    // and the kernel loads its own before it needs one.
    add_segment(registers, "tr", Segment{0, kBusyTssAttrib, 0x67, 0});
    plan.add(op::SetRegisters{0, std::move(registers)});
    plan.add(op::Finalize{});
    plan.check_layout();  // a blob over the kernel or outside RAM is an error, not a surprise
    return plan;
}

} // namespace cvm::x86
