// libFuzzer target for every path a user's device tree takes through a
// planner: arm-cca with each layout (libcvm, kvmtool, qemu), plain arm64 (the
// same machine without a realm) and riscv-cove (the DTB given its /chosen and
// packed into the measured 64 KiB region). The first byte picks the path,
// the rest is the DTB; the spec goes build_plan then predict. A tree a
// planner accepts must be one libfdt fully accepts.
#include <cstddef>
#include <cstdint>

#include <libfdt.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "fuzz_inputs.hpp"

namespace {

struct Path {
    const char* technology;
    const char* layout;  // arm-cca only
};
constexpr Path kPaths[] = {
    {"arm-cca", "libcvm"}, {"arm-cca", "kvmtool"}, {"arm-cca", "qemu"}, {"plain", nullptr}, {"riscv-cove", nullptr},
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > (1u << 20)) return 0;
    const Path& path = kPaths[data[0] % std::size(kPaths)];
    const std::string tech = path.technology;
    cvmfuzz::Bytes dtb(data + 1, data + size);
    cvm::VmSpec spec;
    spec.technology = tech;
    spec.memory.size = 64ull << 20;
    if (path.layout) spec.options["layout"] = path.layout;
    cvmfuzz::Bytes kernel = tech == "riscv-cove" ? cvmfuzz::riscv_image() : cvmfuzz::arm64_image();
    spec.images.push_back({cvm::ImageRole::kernel, cvm::Payload::from_bytes(std::move(kernel), "Image"), true, {}});
    spec.images.push_back({cvm::ImageRole::dtb, cvm::Payload::from_bytes(dtb, "fuzz.dtb"), true, {}});
    try {
        const auto& backend = cvm::find_backend(tech);
        auto plan = backend.build_plan(spec);
        if (dtb.size() < 40 || fdt_check_full(dtb.data(), fdt_totalsize(dtb.data())) != 0) __builtin_trap();
        backend.predict(plan);
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
