// libFuzzer target for the C ABI's inputs: strings and buffers a C or Rust
// VMM passes (technology, option keys and values, command line, image
// buffers with their roles, flags and GPAs, runtime-extend buffers), then
// every output the plan and prediction give. Input: a control block of 8
// bytes (technology, role, flags, vCPUs, memory in MiB, GPA page), then text
// up to a NUL (line 1: technology name override if not empty, line 2: the
// command line, further lines "key=value"), then the image bytes. A status
// other than CVM_OK must come with a message; nothing may crash or leak.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "cvm/cvm.h"
#include "fuzz_inputs.hpp"

namespace {

constexpr const char* kTechnologies[] = {"plain", "arm-cca", "riscv-cove", "amd-sev", "amd-sev-es", "amd-sev-snp"};

void check(cvm_status status) {
    if (status != CVM_OK && (cvm_last_error() == nullptr || *cvm_last_error() == '\0')) __builtin_trap();
}

// Every output of a built plan and its prediction, each released.
void read_everything(const cvm_plan* plan) {
    char* text = nullptr;
    check(cvm_plan_to_text(plan, &text));
    cvm_free(text);
    char* json = nullptr;
    check(cvm_plan_to_json(plan, &json));
    cvm_free(json);
    std::size_t events = 0;
    if (cvm_plan_event_count(plan, &events) == CVM_OK)
        for (std::size_t i = 0; i < events; ++i) check(cvm_plan_event(plan, i, nullptr, nullptr, nullptr));
    std::uint8_t* log = nullptr;
    std::size_t log_size = 0;
    check(cvm_plan_event_log(plan, &log, &log_size));
    cvm_free(log);
    cvm_prediction* prediction = nullptr;
    cvm_status status = cvm_predict(plan, &prediction);
    check(status);
    if (status != CVM_OK) return;
    const std::uint8_t* bytes = nullptr;
    std::size_t n = cvm_prediction_bytes(prediction, &bytes);
    if (n * 2 != std::string(cvm_prediction_hex(prediction)).size()) __builtin_trap();
    for (std::size_t i = 0; i < cvm_prediction_register_count(prediction); ++i)
        check(cvm_prediction_register(prediction, i, nullptr, nullptr));
    char* pjson = nullptr;
    check(cvm_prediction_to_json(prediction, &pjson));
    cvm_free(pjson);
    // The runtime rule with the prediction as the old value and the image
    // bytes' first part as the guest's value.
    std::uint8_t out[64];
    check(cvm_runtime_extend(cvm_prediction_technology(prediction), bytes, n, bytes, n, out));
    cvm_prediction_free(prediction);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 8 || size > (1u << 20)) return 0;
    const std::uint8_t* control = data;
    auto [text, image, image_size] = cvmfuzz::split_at_nul(data + 8, size - 8);
    std::istringstream lines(text);
    std::string tech, cmdline, line;
    std::getline(lines, tech);
    std::getline(lines, cmdline);
    if (tech.empty()) tech = kTechnologies[control[0] % std::size(kTechnologies)];

    cvm_spec* spec = nullptr;
    cvm_status status = cvm_spec_new(tech.c_str(), &spec);
    check(status);
    if (status != CVM_OK) return 0;
    check(cvm_spec_set_memory(spec, (std::uint64_t{control[4]} + 1) << 20));
    check(cvm_spec_set_vcpus(spec, control[3]));
    check(cvm_spec_set_cmdline(spec, cmdline.c_str()));
    while (std::getline(lines, line)) {
        auto eq = line.find('=');
        std::string key = line.substr(0, eq), value = eq == std::string::npos ? "" : line.substr(eq + 1);
        check(cvm_spec_set_option(spec, key.c_str(), value.c_str()));
    }
    // The fuzzed image in a role the control byte picks, with fuzzed flags and
    // GPA; the technology's kernel beside it unless the kernel is the fuzzed one.
    const auto role = static_cast<cvm_image_role>(control[1] % 6);  // 5 is no role at all
    const std::uint32_t flags = control[2];
    const std::uint64_t gpa = std::uint64_t{control[5]} << 12 | std::uint64_t{control[6]} << 24 |
                              std::uint64_t{control[7]} << 32;
    check(cvm_spec_add_image_buffer(spec, role, image, image_size, flags, gpa));
    if (role != CVM_IMAGE_KERNEL) {
        cvmfuzz::Bytes kernel = tech == "arm-cca"      ? cvmfuzz::arm64_image()
                                : tech == "riscv-cove" ? cvmfuzz::riscv_image()
                                                       : cvmfuzz::bzimage();
        check(cvm_spec_add_image_buffer(spec, CVM_IMAGE_KERNEL, kernel.data(), kernel.size(), 0, 0));
    }
    cvm_plan* plan = nullptr;
    status = cvm_plan_build(spec, &plan);
    check(status);
    cvm_spec_free(spec);
    if (status == CVM_OK) {
        if (cvm_plan_operation_count(plan) == 0) __builtin_trap();
        read_everything(plan);
        cvm_plan_free(plan);
    }
    return 0;
}
