// Where a realm's images go: one function per VMM layout. A layout decides
// guest RAM, the IPA width the VMM asks for, the load address of each image,
// the DTB and the boot vCPU's PC and X0. The planner turns the result into a
// launch plan; nothing else knows the layout rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"
#include "cvm/image.hpp"
#include "cvm/plan.hpp"
#include "cvm/spec.hpp"
#include "libcvm/fdt/fdt_check.hpp"

namespace cvm::cca {

struct LayoutInputs {
    const VmSpec* spec = nullptr;
    const ImageSpec* kernel = nullptr;
    const ImageSpec* initrd = nullptr;
    const ImageSpec* firmware = nullptr;
    const ImageSpec* dtb = nullptr;  // used as is instead of a generated tree
    bool pmu = false;                // the DTB describes a PMU
};

struct RealmLayout {
    struct Load {
        std::uint64_t gpa = 0;
        Payload data;
        std::string label;
    };
    std::uint64_t ram_base = 0;
    std::uint64_t ram_size = 0;
    // Memory besides RAM that holds a load: QEMU's flash, where -bios puts
    // the firmware. Not RIPAS RAM: its granules become RAM by being populated.
    struct Region {
        std::uint64_t gpa = 0;
        std::uint64_t size = 0;
        std::string label;
    };
    std::vector<Region> other_memory;
    unsigned ipa_bits = 0;  // what the VMM asks for, before the host's limit
    HashAlgorithm default_hash = HashAlgorithm::sha256;
    std::vector<Load> loads;  // all measured
    // The VMM's devices, as its DTB describes them: the launcher creates
    // exactly these (a user's DTB must describe the same).
    std::vector<op::AddDevice> devices;
    std::uint64_t pc = 0;
    std::uint64_t x0 = 0;     // the DTB address, or 0
};

RealmLayout kvmtool_layout(const LayoutInputs& in);
RealmLayout qemu_layout(const LayoutInputs& in);
RealmLayout libcvm_layout(const LayoutInputs& in);

// Parses the kernel's arm64 Image header; a realm boots little-endian kernels only.
Arm64Image realm_kernel(const ImageSpec& kernel);

// Checks a user-supplied DTB with libfdt; throws a located cvm::Error.
using cvm::check_dtb;

// Helpers shared by the layouts.
inline std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }
inline std::uint64_t align_down(std::uint64_t v, std::uint64_t a) { return v / a * a; }
inline unsigned ilog2(std::uint64_t v) { return 63u - static_cast<unsigned>(__builtin_clzll(v)); }

} // namespace cvm::cca
