// libFuzzer target for device trees given to the arm-cca backend (--dtb):
// the bytes go through the public path, spec -> plan -> predicted RIM. A
// tree the planner accepts must be one libfdt fully accepts.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <libfdt.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"

namespace {

// A 64-byte arm64 Image header: text_offset 0, image_size 2 MiB, 4K pages.
std::vector<std::uint8_t> tiny_kernel() {
    std::vector<std::uint8_t> k(64, 0);
    k[16 + 2] = 0x20;  // image_size = 0x200000
    k[24] = 0x2;       // flags: little-endian, 4 KiB pages
    const std::uint8_t magic[] = {'A', 'R', 'M', 0x64};
    for (int i = 0; i < 4; ++i) k[56 + i] = magic[i];
    return k;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const cvm::Payload kernel = cvm::Payload::from_bytes(tiny_kernel(), "Image");
    cvm::VmSpec spec;
    spec.technology = "arm-cca";
    spec.memory.size = 64ull << 20;
    spec.options["layout"] = "qemu";
    spec.images.push_back({cvm::ImageRole::kernel, kernel, true, {}});
    spec.images.push_back({cvm::ImageRole::dtb,
                           cvm::Payload::from_bytes(std::vector<std::uint8_t>(data, data + size), "fuzz.dtb"), true,
                           {}});
    try {
        const auto& backend = cvm::find_backend("arm-cca");
        auto plan = backend.build_plan(spec);
        if (size < 40 || fdt_check_full(data, fdt_totalsize(data)) != 0) __builtin_trap();
        backend.predict(plan);
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
