// libFuzzer target for the option and size parsers: every technology's
// options (hash, layout, policy, sev-features, host values, ...), the memory
// size syntax and the vCPU count, through the public path (resolve_options,
// build_plan, predict). Input: a selector byte, then text up to a NUL whose
// first line is the memory size, second the vCPU count, third the command
// line, and each further line "key=value"; the bytes after the NUL are the
// firmware for the SEV technologies (the kept corpus carries a real one).
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <sstream>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/spec.hpp"
#include "fuzz_inputs.hpp"

namespace {

constexpr const char* kTechnologies[] = {"plain", "arm-cca", "riscv-cove", "amd-sev", "amd-sev-es", "amd-sev-snp"};

cvm::Payload bytes_of(cvmfuzz::Bytes b, const char* name) { return cvm::Payload::from_bytes(std::move(b), name); }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > (1u << 20)) return 0;
    const std::string tech = kTechnologies[data[0] % std::size(kTechnologies)];
    auto [text, rest, rest_size] = cvmfuzz::split_at_nul(data + 1, size - 1);
    std::istringstream lines(text);
    std::string memory, vcpus, line;
    cvm::VmSpec spec;
    spec.technology = tech;
    std::getline(lines, memory);
    std::getline(lines, vcpus);
    std::getline(lines, spec.cmdline);
    while (std::getline(lines, line)) {
        auto eq = line.find('=');
        spec.options[line.substr(0, eq)] = eq == std::string::npos ? std::string() : line.substr(eq + 1);
    }
    try {
        spec.memory.size = cvm::parse_size(memory, "memory");
        unsigned count = 0;
        auto [end, ec] = std::from_chars(vcpus.data(), vcpus.data() + vcpus.size(), count);
        spec.vcpus.count = ec == std::errc{} ? count : 1;
        if (tech == "plain") {
            // Every other plain input boots a RISC-V Image: the plain options
            // (isa, timebase-frequency) describe a riscv64 host.
            const bool riscv = (data[0] / std::size(kTechnologies)) % 2 == 1;
            spec.images.push_back({cvm::ImageRole::kernel,
                                   riscv ? bytes_of(cvmfuzz::riscv_image(), "Image")
                                         : bytes_of(cvmfuzz::bzimage(), "bzImage"),
                                   true, {}});
        } else if (tech == "arm-cca") {
            spec.images.push_back({cvm::ImageRole::kernel, bytes_of(cvmfuzz::arm64_image(), "Image"), true, {}});
        } else if (tech == "riscv-cove") {
            spec.images.push_back({cvm::ImageRole::kernel, bytes_of(cvmfuzz::riscv_image(), "Image"), true, {}});
        } else {
            spec.images.push_back({cvm::ImageRole::firmware, bytes_of(cvmfuzz::Bytes(rest, rest + rest_size), "OVMF.fd"),
                                   true, {}});
            spec.images.push_back({cvm::ImageRole::kernel, bytes_of(cvmfuzz::bzimage(), "bzImage"), true, {}});
        }
        const auto& backend = cvm::find_backend(tech);
        cvm::resolve_options(backend, spec);
        backend.predict(backend.build_plan(spec));
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
