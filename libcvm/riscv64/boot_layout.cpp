#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/riscv64/machine.hpp"

namespace cvm::riscv64 {
namespace {

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

bool overlaps(std::uint64_t a, std::uint64_t a_size, std::uint64_t b, std::uint64_t b_size) {
    return a < b + b_size && b < a + a_size;
}

} // namespace

bool is_riscv_image(ByteSpan kernel) {
    constexpr std::size_t kMagicOffset = 0x38;
    return kernel.size() >= kMagicOffset + 4 && std::memcmp(kernel.data() + kMagicOffset, "RSC\x05", 4) == 0;
}

BootLayout place_boot_images(const VmSpec& spec, const RiscvImage& image, std::uint64_t kernel_size,
                             const std::string& kernel_name) {
    BootLayout l;
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

} // namespace cvm::riscv64
