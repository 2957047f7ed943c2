// libFuzzer target for the planners' and predictors' use of image bytes: the
// fuzzed bytes become one image of one technology (the first byte picks
// which), the others are well formed, and the spec goes the public way:
// build_plan, predict, the event log of the plan, and that log replayed.
// Every outcome but a prediction or a located cvm::Error is a bug, and a
// plain plan's log must replay to its prediction (PCR 0 is the software
// measurement).
#include <cstddef>
#include <cstdint>
#include <algorithm>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"
#include "fuzz_inputs.hpp"

namespace {

// SEV technologies get the fuzzed bytes as their firmware (with a
// well-formed bzImage for the kernel hashes; the options target fuzzes the
// SEV options with a real firmware); the others as their kernel (x86
// bzImage, arm64 Image, RISC-V Image).
constexpr const char* kTechnologies[] = {"plain", "arm-cca", "riscv-cove", "amd-sev", "amd-sev-es", "amd-sev-snp"};

cvm::Payload bytes_of(cvmfuzz::Bytes b, const char* name) { return cvm::Payload::from_bytes(std::move(b), name); }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > (4u << 20)) return 0;
    const std::string tech = kTechnologies[data[0] % std::size(kTechnologies)];
    cvm::VmSpec spec;
    spec.technology = tech;
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = 1 + (data[0] >> 7);
    spec.cmdline = "console=ttyS0";
    if (tech.rfind("amd-sev", 0) == 0) {
        spec.memory.size = 256ull << 20;
        // Firmware is read from its end: pad the front to whole pages.
        cvmfuzz::Bytes image((size - 1 + 4095) / 4096 * 4096, 0);
        std::copy(data + 1, data + size, image.end() - static_cast<std::ptrdiff_t>(size - 1));
        spec.images.push_back({cvm::ImageRole::firmware, bytes_of(std::move(image), "fuzz-fw"), true, {}});
        spec.images.push_back({cvm::ImageRole::kernel, bytes_of(cvmfuzz::bzimage(), "bzImage"), true, {}});
    } else {
        spec.images.push_back(
            {cvm::ImageRole::kernel, bytes_of(cvmfuzz::Bytes(data + 1, data + size), "fuzz"), true, {}});
    }
    try {
        const auto& backend = cvm::find_backend(tech);
        auto plan = backend.build_plan(spec);
        auto predicted = backend.predict(plan);
        cvm::eventlog::WriteOptions options;
        options.banks = {predicted.value.algorithm()};
        options.vendor_info = cvm::eventlog::vendor_info_for(tech);
        auto log_bytes = cvm::eventlog::write_log(backend.events(plan), options);
        auto log = cvm::eventlog::read_log(log_bytes, "fuzz.log");
        auto pcrs = cvm::eventlog::replay(log, "fuzz.log");
        if (tech == "plain") {
            const auto& pcr0 = pcrs.banks.at(cvm::eventlog::tpm_alg(predicted.value.algorithm())).at(0);
            if (!std::equal(pcr0.begin(), pcr0.end(), predicted.value.bytes().begin(), predicted.value.bytes().end()))
                __builtin_trap();
        }
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
