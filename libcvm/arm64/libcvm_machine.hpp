// libcvm's own arm64 machine: one memory map, one image placement and one
// device tree, used by both the arm-cca backend (its "libcvm" realm layout)
// and the plain backend's arm64 guests on ordinary KVM, so that the same
// kernel, initrd and DTB land at the same addresses in a realm and in a
// guest that can be booted and inspected anywhere.
//
//   0x0100_0000  16550 UART (8 bytes, SPI 0, level high)
//   below 0x3fff_0000  GICv3 redistributors, 128 KiB per vCPU
//   0x3fff_0000  GICv3 distributor (64 KiB)
//   0x8000_0000  RAM; kernel at RAM + text_offset, the DTB at the next 2 MiB
//                boundary after the kernel's image_size, the initrd 2 MiB
//                after the DTB (Linux limits a DTB to 2 MiB)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/image.hpp"
#include "cvm/plan.hpp"
#include "cvm/spec.hpp"
#include "libcvm/arm64/dtb_nodes.hpp"

namespace cvm::arm64 {

inline constexpr std::uint64_t kRamBase = 0x80000000;
inline constexpr std::uint64_t kUartBase = 0x01000000;
inline constexpr std::uint64_t kUartSize = 8;
inline constexpr std::uint32_t kUartSpi = 0;  // GIC INTID 32
inline constexpr std::uint64_t kGicDistBase = 0x3fff0000;
inline constexpr std::uint64_t kGicDistSize = 0x10000;
inline constexpr std::uint64_t kGicRedistStride = 0x20000;  // RD_base + SGI_base frames
inline constexpr std::uint64_t gic_redist_base(unsigned vcpus) {
    return kGicDistBase - std::uint64_t{vcpus} * kGicRedistStride;
}

// Parses the kernel's arm64 Image header and requires what a direct boot
// relies on: little-endian, a non-zero image_size, a page-aligned text_offset.
Arm64Image boot_kernel(const ImageSpec& kernel);

struct BootInputs {
    const VmSpec* spec = nullptr;
    const ImageSpec* kernel = nullptr;
    const ImageSpec* initrd = nullptr;
    const ImageSpec* dtb = nullptr;  // used as is instead of a generated tree
    bool pmu = false;                // the generated DTB describes a PMU
    PsciConduit conduit = PsciConduit::smc;
    std::string_view model = "linux,dummy-virt-realm";
};

struct BootLayout {
    struct Load {
        std::uint64_t gpa = 0;
        Payload data;
        std::string label;
        bool measured = true;  // the spec's flag; a generated DTB is always measured
    };
    std::uint64_t ram_base = 0;
    std::uint64_t ram_size = 0;
    unsigned ipa_bits = 0;    // enough for RAM's end, at least 33
    std::vector<Load> loads;  // kernel, initrd, DTB, in the order placed
    std::vector<op::AddDevice> devices;  // what the DTB describes (a user's DTB must describe the same)
    std::uint64_t pc = 0;     // the kernel entry
    std::uint64_t x0 = 0;     // the DTB
};

// The machine's devices for `vcpus` vCPUs: the GICv3 (distributor, one
// redistributor region of 128 KiB per vCPU below it) and the UART on SPI 0.
std::vector<op::AddDevice> libcvm_machine_devices(unsigned vcpus);

// Places the images; errors name "libcvm layout" and the image at fault.
BootLayout libcvm_boot_layout(const BootInputs& in);

// The machine's device tree: memory, cpus + PSCI, arch timer, /chosen, and
// `devices` (one GICv3, 16550 UARTs), which the launcher creates from the
// same records. Throws for a device the tree cannot describe.
std::vector<std::uint8_t> libcvm_machine_dtb(const DtbInputs& in, const std::vector<op::AddDevice>& devices);

} // namespace cvm::arm64
