// Throughput and peak memory of the SEV-SNP and SEV-ES predictors on the
// largest firmware the planner accepts (16 MiB): the vectors' synthetic
// firmware table at the end of a 16 MiB image.
//   bench/sev-predict [path/to/vectors/sev/synthetic_fw.bin] [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "cvm/backend.hpp"

int main(int argc, char** argv) {
    const char* dir = std::getenv("CVM_VECTORS_DIR");
    std::string path = argc > 1 ? argv[1] : std::string(dir ? dir : "tests/vectors") + "/sev/synthetic_fw.bin";
    int iterations = argc > 2 ? std::atoi(argv[2]) : 5;
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> suffix{std::istreambuf_iterator<char>(in), {}};
    if (suffix.size() < 4096) {
        std::fprintf(stderr, "sev-predict: cannot read %s\n", path.c_str());
        return 1;
    }
    const std::size_t size = 16u << 20;
    std::vector<std::uint8_t> image(size);
    for (std::size_t i = 0; i < size; ++i) image[i] = static_cast<std::uint8_t>(i * 31);
    std::copy(suffix.end() - 4096, suffix.end(), image.end() - 4096);
    auto firmware = cvm::Payload::from_bytes(std::move(image), "16 MiB firmware");

    for (const char* tech : {"amd-sev-es", "amd-sev-snp"}) {
        cvm::VmSpec spec;
        spec.technology = tech;
        spec.memory.size = 64u << 20;
        spec.vcpus.count = 4;
        spec.images.push_back({cvm::ImageRole::firmware, firmware, true, {}});
        const auto& backend = cvm::find_backend(tech);
        auto start = std::chrono::steady_clock::now();
        std::string value;
        for (int i = 0; i < iterations; ++i) value = backend.predict(backend.build_plan(spec)).value.hex();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%-12s %d x 16 MiB in %.3f s: %.1f MiB/s  (%s...)\n", tech, iterations, seconds,
                    iterations * 16.0 / seconds, value.substr(0, 16).c_str());
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("peak RSS %.1f MiB (the image itself is 16 MiB)\n", usage.ru_maxrss / 1024.0);
    return 0;
}
