// The plain x86 backend booting a firmware: OVMF (an edk2 OvmfPkgX64 build
// such as Debian's OVMF.fd) at the top of 4 GiB, the kernel, initrd and
// command line handed to it through fw_cfg as QEMU's -kernel, -initrd and
// -append hand them, on the PC the firmware's source shows it needs
// (libcvm/x86/pc_machine.hpp). The vCPUs start from the architectural reset
// state KVM gives them (CS:IP f000:fff0 under a base of 0xffff0000): the plan
// sets no register. The SEV planners give their guests the same machine.
#include "backends/plain/plain_planner.hpp"

#include <fmt/format.h>

#include "backends/plain/plain_config.hpp"
#include "backends/plain/x86_boot.hpp"
#include "backends/plain/x86_layout.hpp"
#include "cvm/error.hpp"
#include "libcvm/x86/pc_machine.hpp"

namespace cvm::x86 {
namespace {

// OVMF's firmware volumes run from, and its PEI and DXE cores decompress
// into, guest RAM below this (OvmfPkgX64.fdf: MEMFD 0x800000 + 0xd00000).
constexpr std::uint64_t kOvmfWorkingRamEnd = 0x1500000;
// The largest firmware the PC maps below 4 GiB: QEMU's pc.bios limit.
constexpr std::uint64_t kMaxFirmwareSize = 16ull << 20;
// The firmware ends at 4 GiB, where RAM above the PCI hole begins.
constexpr std::uint64_t kFirmwareEnd = kHighRamBase;

} // namespace

LaunchPlan build_plain_firmware_plan(const VmSpec& spec) {
    for (const auto& image : spec.images)
        if (image.role == ImageRole::dtb || image.role == ImageRole::blob)
            throw Error(fmt::format("a plain x86 firmware boot takes a firmware, a kernel and an initrd, no {} image",
                                    to_string(image.role)));
    const ImageSpec* firmware = spec.image(ImageRole::firmware);
    const ImageSpec* kernel = spec.image(ImageRole::kernel);
    const ImageSpec* initrd = spec.image(ImageRole::initrd);
    if (!kernel && (initrd || !spec.cmdline.empty()))
        throw Error("an initrd or command line for the firmware to boot needs a kernel");
    if (spec.vcpus.count == 0 || spec.vcpus.count > 255)
        throw Error(fmt::format("{} vCPUs requested: the plain backend supports 1 to 255", spec.vcpus.count));
    const std::uint64_t size = firmware->payload.size();
    if (size == 0 || size % 4096 || size > kMaxFirmwareSize)
        throw Error(fmt::format("a firmware of {} bytes: expected whole 4 KiB pages, at most {} MiB, to map below "
                                "4 GiB", size, kMaxFirmwareSize >> 20), 0, firmware->payload.name());
    RamLayout ram = split_ram(spec.memory.size);
    if (ram.low_size < kOvmfWorkingRamEnd)
        throw Error(fmt::format("{} bytes of guest memory: OVMF works in RAM up to {:#x}; give the guest more memory",
                                spec.memory.size, kOvmfWorkingRamEnd));

    LaunchPlan plan("plain", HashAlgorithm::sha256);
    plan.add(op::CreateVm{std::make_shared<plain::X86Config>()});
    plan.add(op::AddMemory{0, ram.low_size, false, "ram below 3 GiB"});
    if (ram.high_size) plan.add(op::AddMemory{kHighRamBase, ram.high_size, false, "ram above 4 GiB"});
    // As RAM: OVMF finds no flash (QemuFlashDetected reads back what it
    // wrote) and keeps its variables in memory.
    plan.add(op::AddMemory{kFirmwareEnd - size, size, false, "firmware"});
    FirmwareBoot boot;
    boot.vcpus = spec.vcpus.count;
    boot.pit = true;
    boot.low_ram = ram.low_size;
    boot.high_ram = ram.high_size;
    boot.kernel = kernel ? &kernel->payload : nullptr;
    boot.initrd = initrd ? &initrd->payload : nullptr;
    boot.cmdline = spec.cmdline;
    for (auto& device : pc_firmware_devices(boot)) plan.add(std::move(device));
    plan.add(op::LoadData{kFirmwareEnd - size, firmware->payload, firmware->measured, "firmware", {}});
    plan.add(op::CreateVcpus{spec.vcpus.count});
    plan.add(op::Finalize{});
    plan.check_layout();
    return plan;
}

} // namespace cvm::x86
