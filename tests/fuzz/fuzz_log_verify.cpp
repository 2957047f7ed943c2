// libFuzzer target for the verifier with a real list of known-good images:
// the fuzzed bytes are an event log; the images (the small well-formed
// kernels of fuzz_inputs.hpp) are written once to a scratch directory with
// their sha256sum list, so the replay rules that hash listed files (CCA
// granules, CoVE pages, the plain chain) run on what the log claims.
// The expected value is the prediction for the plan the seed logs came from,
// so a seed verifies and a mutation must fail with a named event or a
// located error. CVM_FUZZ_WRITE_SEEDS=DIR writes those seed logs and exits.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "cvm/backend.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"
#include "fuzz_inputs.hpp"

namespace {

struct Setup {
    std::string dir, sums;
    cvm::eventlog::ImageList images;
};

// The scratch directory goes when the process ends, however many runs used it.
std::string scratch_dir;
void remove_scratch() { std::filesystem::remove_all(scratch_dir); }

void write_file(const std::string& path, const cvmfuzz::Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) __builtin_trap();
}

const Setup& setup() {
    static const Setup s = [] {
        Setup s;
        char tmpl[] = "/tmp/fuzz-log-verify-XXXXXX";
        if (!mkdtemp(tmpl)) __builtin_trap();
        s.dir = scratch_dir = tmpl;
        std::atexit(remove_scratch);
        std::string list;
        for (auto [name, bytes] : {std::pair{"bzImage", cvmfuzz::bzimage()}, std::pair{"Image-arm64", cvmfuzz::arm64_image()},
                                   std::pair{"Image-riscv64", cvmfuzz::riscv_image()}}) {
            std::string path = s.dir + "/" + name;
            write_file(path, bytes);
            list += cvm::to_hex(cvm::hash(cvm::HashAlgorithm::sha256, bytes).bytes()) + "  " + path + "\n";
        }
        s.sums = s.dir + "/SHA256SUMS";
        write_file(s.sums, cvmfuzz::Bytes(list.begin(), list.end()));
        s.images = cvm::eventlog::ImageList::read(s.sums);
        return s;
    }();
    return s;
}

// The seed plans: one per technology whose replay reads listed images.
cvm::LaunchPlan seed_plan(unsigned which) {
    const Setup& s = setup();
    cvm::VmSpec spec;
    spec.memory.size = 64ull << 20;
    spec.cmdline = "console=ttyS0";
    const char* kernel = "bzImage";
    if (which == 1) spec.technology = "arm-cca", kernel = "Image-arm64";
    if (which == 2) spec.technology = "riscv-cove", kernel = "Image-riscv64";
    spec.images.push_back({cvm::ImageRole::kernel, cvm::Payload::map_file(s.dir + "/" + kernel), true, {}});
    return cvm::find_backend(spec.technology).build_plan(spec);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* seeds = std::getenv("CVM_FUZZ_WRITE_SEEDS");
    if (!seeds) return 0;
    for (unsigned i = 0; i < 3; ++i) {
        auto plan = seed_plan(i);
        const auto& backend = cvm::find_backend(plan.technology());
        cvm::eventlog::WriteOptions options;
        options.banks = {backend.predict(plan).value.algorithm()};
        options.vendor_info = cvm::eventlog::vendor_info_for(plan.technology());
        // The first byte picks the expected value (see below).
        cvmfuzz::Bytes out{static_cast<std::uint8_t>(i)};
        auto log = cvm::eventlog::write_log(backend.events(plan), options);
        out.insert(out.end(), log.begin(), log.end());
        write_file(std::string(seeds) + "/" + std::string(plan.technology()), out);
    }
    std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const std::vector<cvm::Digest> expected = [] {
        std::vector<cvm::Digest> out;
        for (unsigned i = 0; i < 3; ++i) {
            auto plan = seed_plan(i);
            out.push_back(cvm::find_backend(plan.technology()).predict(plan).value);
        }
        return out;
    }();
    const cvm::Digest& want = expected[data[0] % expected.size()];
    cvm::ByteSpan bytes(data + 1, size - 1);
    try {
        auto log = cvm::eventlog::read_log(bytes, "fuzz.log");
        auto result = cvm::eventlog::verify(log, "fuzz.log", setup().images, want.bytes());
        // A verdict either way, and a failure always says where.
        if (!result.matches && result.failures.empty() && result.unbound.empty() &&
            result.replayed && *result.replayed == want)
            __builtin_trap();
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
