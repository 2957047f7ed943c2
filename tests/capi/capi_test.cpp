// The C ABI against the C++ API it wraps: the same spec gives the same plan,
// events and prediction through both, for every compiled-in technology; and
// every failure becomes a status code plus a message, never an exception.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"
#include "cvm/cvm.h"
#include "synthetic_images.hpp"
#include "test_paths.hpp"

using namespace cvm;

namespace {

struct Free {
    void operator()(cvm_spec* p) const { cvm_spec_free(p); }
    void operator()(cvm_plan* p) const { cvm_plan_free(p); }
    void operator()(cvm_prediction* p) const { cvm_prediction_free(p); }
    void operator()(cvm_launch* p) const { cvm_launch_free(p); }
    void operator()(char* p) const { cvm_free(p); }
};
template <typename T> using Owned = std::unique_ptr<T, Free>;

// A file holding `bytes`, removed at the end of the test.
class TempFile {
public:
    explicit TempFile(const std::vector<std::uint8_t>& bytes) {
        char name[] = "/tmp/capi-test-XXXXXX";
        int fd = mkstemp(name);
        path_ = name;
        EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
        close(fd);
    }
    ~TempFile() { std::remove(path_.c_str()); }
    const char* path() const { return path_.c_str(); }

private:
    std::string path_;
};

Owned<cvm_spec> c_spec(const char* technology) {
    cvm_spec* spec = nullptr;
    EXPECT_EQ(cvm_spec_new(technology, &spec), CVM_OK);
    return Owned<cvm_spec>(spec);
}

Owned<cvm_plan> c_plan(const cvm_spec* spec) {
    cvm_plan* plan = nullptr;
    EXPECT_EQ(cvm_plan_build(spec, &plan), CVM_OK) << cvm_last_error();
    return Owned<cvm_plan>(plan);
}

Owned<cvm_prediction> c_predict(const cvm_plan* plan) {
    cvm_prediction* prediction = nullptr;
    EXPECT_EQ(cvm_predict(plan, &prediction), CVM_OK) << cvm_last_error();
    return Owned<cvm_prediction>(prediction);
}

std::string take(char* text) {
    Owned<char> owned(text);
    return text ? std::string(text) : std::string("<null>");
}

TEST(CApi, VersionMatchesTheHeader) {
    int major = -1, minor = -1, patch = -1;
    const char* text = cvm_version(&major, &minor, &patch);
    EXPECT_EQ(major, CVM_VERSION_MAJOR);
    EXPECT_EQ(minor, CVM_VERSION_MINOR);
    EXPECT_EQ(patch, CVM_VERSION_PATCH);
    EXPECT_EQ(std::string(text), std::to_string(CVM_VERSION_MAJOR) + "." + std::to_string(CVM_VERSION_MINOR) + "." +
                                     std::to_string(CVM_VERSION_PATCH));
    EXPECT_NE(cvm_version(nullptr, nullptr, nullptr), nullptr);
}

TEST(CApi, TechnologiesAreTheRegisteredBackends) {
    auto backends = all_backends();
    ASSERT_EQ(cvm_technology_count(), backends.size());
    for (std::size_t i = 0; i < backends.size(); ++i) {
        EXPECT_EQ(std::string(cvm_technology_name(i)), backends[i]->name());
        EXPECT_EQ(std::string(cvm_technology_summary(i)), backends[i]->summary());
    }
    EXPECT_EQ(cvm_technology_name(backends.size()), nullptr);
    EXPECT_EQ(cvm_technology_summary(backends.size()), nullptr);
}

TEST(CApi, PlainPlanAndPredictionEqualTheCppApi) {
    auto kernel_bytes = cvmtest::synthetic_bzimage(10000);
    std::vector<std::uint8_t> initrd(777, 0x42);
    TempFile kernel(kernel_bytes);

    auto spec = c_spec("plain");
    ASSERT_EQ(cvm_spec_set_memory(spec.get(), 64ull << 20), CVM_OK);
    ASSERT_EQ(cvm_spec_set_vcpus(spec.get(), 3), CVM_OK);
    ASSERT_EQ(cvm_spec_set_cmdline(spec.get(), "console=ttyS0 quiet"), CVM_OK);
    ASSERT_EQ(cvm_spec_add_image_file(spec.get(), CVM_IMAGE_KERNEL, kernel.path(), 0, 0), CVM_OK);
    ASSERT_EQ(cvm_spec_add_image_buffer(spec.get(), CVM_IMAGE_INITRD, initrd.data(), initrd.size(), 0, 0), CVM_OK);
    auto plan = c_plan(spec.get());
    ASSERT_TRUE(plan);
    auto prediction = c_predict(plan.get());
    ASSERT_TRUE(prediction);

    VmSpec cpp;
    cpp.memory.size = 64ull << 20;
    cpp.vcpus.count = 3;
    cpp.cmdline = "console=ttyS0 quiet";
    cpp.images.push_back({ImageRole::kernel, Payload::map_file(kernel.path()), true, {}});
    cpp.images.push_back({ImageRole::initrd, Payload::from_bytes(initrd, "initrd buffer"), true, {}});
    const auto& plain = find_backend("plain");
    auto cpp_plan = plain.build_plan(cpp);
    auto expected = plain.predict(cpp_plan);

    EXPECT_STREQ(cvm_plan_technology(plan.get()), "plain");
    EXPECT_EQ(cvm_plan_operation_count(plan.get()), cpp_plan.operations().size());
    char* text = nullptr;
    ASSERT_EQ(cvm_plan_to_json(plan.get(), &text), CVM_OK);
    EXPECT_EQ(take(text), cpp_plan.to_json());
    ASSERT_EQ(cvm_plan_to_text(plan.get(), &text), CVM_OK);
    EXPECT_EQ(take(text), cpp_plan.to_text());

    EXPECT_STREQ(cvm_prediction_technology(prediction.get()), "plain");
    EXPECT_STREQ(cvm_prediction_algorithm(prediction.get()), "sha256");
    EXPECT_EQ(std::string(cvm_prediction_hex(prediction.get())), expected.value.hex());
    const std::uint8_t* bytes = nullptr;
    ASSERT_EQ(cvm_prediction_bytes(prediction.get(), &bytes), 32u);
    EXPECT_EQ(to_hex(ByteSpan(bytes, 32)), expected.value.hex());
    EXPECT_EQ(cvm_prediction_register_count(prediction.get()), 0u);
    ASSERT_EQ(cvm_prediction_to_json(prediction.get(), &text), CVM_OK);
    EXPECT_EQ(take(text), expected.to_json());

    auto events = plain.events(cpp_plan);
    std::size_t count = 0;
    ASSERT_EQ(cvm_plan_event_count(plan.get(), &count), CVM_OK);
    ASSERT_EQ(count, events.size());
    for (std::size_t i = 0; i < count; ++i) {
        const char *kind = nullptr, *description = nullptr, *digest = nullptr;
        ASSERT_EQ(cvm_plan_event(plan.get(), i, &kind, &description, &digest), CVM_OK);
        EXPECT_EQ(std::string(kind), events[i].kind);
        EXPECT_EQ(std::string(description), events[i].description);
        EXPECT_EQ(std::string(digest), events[i].digest.hex());
    }
    EXPECT_EQ(cvm_plan_event(plan.get(), count, nullptr, nullptr, nullptr), CVM_ERR_ARGUMENT);

    std::uint8_t* log = nullptr;
    std::size_t log_size = 0;
    ASSERT_EQ(cvm_plan_event_log(plan.get(), &log, &log_size), CVM_OK) << cvm_last_error();
    std::vector<std::uint8_t> c_log(log, log + log_size);
    cvm_free(log);
    eventlog::WriteOptions options;
    options.banks = {HashAlgorithm::sha256};
    options.vendor_info = eventlog::vendor_info_for("plain");
    EXPECT_EQ(c_log, eventlog::write_log(events, options));
    EXPECT_EQ(cvm_plan_event_log(plan.get(), nullptr, &log_size), CVM_ERR_ARGUMENT);
}

TEST(CApi, BufferAndFileImagesPredictAlike) {
    auto kernel_bytes = cvmtest::synthetic_bzimage();
    TempFile kernel(kernel_bytes);
    auto from_file = c_spec("plain");
    auto from_buffer = c_spec("plain");
    ASSERT_EQ(cvm_spec_add_image_file(from_file.get(), CVM_IMAGE_KERNEL, kernel.path(), 0, 0), CVM_OK);
    ASSERT_EQ(cvm_spec_add_image_buffer(from_buffer.get(), CVM_IMAGE_KERNEL, kernel_bytes.data(), kernel_bytes.size(),
                                        0, 0), CVM_OK);
    kernel_bytes.assign(kernel_bytes.size(), 0);  // the spec holds its own copy
    auto a = c_predict(c_plan(from_file.get()).get());
    auto b = c_predict(c_plan(from_buffer.get()).get());
    ASSERT_TRUE(a && b);
    EXPECT_STREQ(cvm_prediction_hex(a.get()), cvm_prediction_hex(b.get()));
}

TEST(CApi, EveryTechnologyAgreesWithTheCppApiOrRefusesAlike) {
    // The tiny guest suits plain; the others refuse it, and must refuse it
    // through both APIs with the same message.
    auto kernel_bytes = cvmtest::synthetic_bzimage();
    for (const Backend* backend : all_backends()) {
        std::string name(backend->name());
        SCOPED_TRACE(name);
        auto spec = c_spec(name.c_str());
        ASSERT_EQ(cvm_spec_add_image_buffer(spec.get(), CVM_IMAGE_KERNEL, kernel_bytes.data(), kernel_bytes.size(),
                                            0, 0), CVM_OK);
        VmSpec cpp;
        cpp.technology = name;
        cpp.images.push_back({ImageRole::kernel, Payload::from_bytes(kernel_bytes, "kernel buffer"), true, {}});
        std::string cpp_outcome;
        try {
            cpp_outcome = backend->predict(backend->build_plan(cpp)).value.hex();
        } catch (const Error& e) {
            cpp_outcome = std::string("error: ") + e.what();
        }
        std::string c_outcome;
        cvm_plan* plan = nullptr;
        cvm_prediction* prediction = nullptr;
        cvm_status status = cvm_plan_build(spec.get(), &plan);
        if (status == CVM_OK) status = cvm_predict(plan, &prediction);
        c_outcome = status == CVM_OK ? cvm_prediction_hex(prediction) : std::string("error: ") + cvm_last_error();
        if (status != CVM_OK) {
            EXPECT_EQ(status, CVM_ERR_INPUT);
        }
        cvm_prediction_free(prediction);
        cvm_plan_free(plan);
        EXPECT_EQ(c_outcome, cpp_outcome);
    }
}

// A RISC-V Image header (Documentation/arch/riscv/boot-image-header.rst)
// in front of patterned bytes.
std::vector<std::uint8_t> riscv_image() {
    std::vector<std::uint8_t> image(3 * 4096 + 321, 0);
    for (std::size_t i = 64; i < image.size(); ++i) image[i] = static_cast<std::uint8_t>(i * 11);
    cvmtest::put<std::uint32_t>(image, 0, 0x6f);        // code0: a jump
    cvmtest::put<std::uint64_t>(image, 8, 0x200000);    // text_offset
    cvmtest::put<std::uint64_t>(image, 16, 0x300000);   // image_size
    cvmtest::put<std::uint32_t>(image, 32, 2);          // header version 0.2
    std::memcpy(image.data() + 48, "RISCV\0\0\0", 8);
    cvmtest::put<std::uint32_t>(image, 56, 0x05435352); // "RSC\x05"
    return image;
}

TEST(CApi, RegistersOfAMultiRegisterTechnologyEqualTheCppApi) {
    bool compiled_in = false;
    for (const Backend* backend : all_backends()) compiled_in |= backend->name() == "riscv-cove";
    if (!compiled_in) GTEST_SKIP() << "riscv-cove is not compiled in";
    auto kernel = riscv_image();
    auto spec = c_spec("riscv-cove");
    ASSERT_EQ(cvm_spec_set_memory(spec.get(), 256ull << 20), CVM_OK);
    ASSERT_EQ(cvm_spec_set_cmdline(spec.get(), "console=hvc0"), CVM_OK);
    ASSERT_EQ(cvm_spec_add_image_buffer(spec.get(), CVM_IMAGE_KERNEL, kernel.data(), kernel.size(), 0, 0), CVM_OK);
    auto prediction = c_predict(c_plan(spec.get()).get());
    ASSERT_TRUE(prediction);

    VmSpec cpp;
    cpp.technology = "riscv-cove";
    cpp.memory.size = 256ull << 20;
    cpp.cmdline = "console=hvc0";
    cpp.images.push_back({ImageRole::kernel, Payload::from_bytes(kernel, "kernel buffer"), true, {}});
    const auto& cove = find_backend("riscv-cove");
    auto expected = cove.predict(cove.build_plan(cpp));

    EXPECT_EQ(std::string(cvm_prediction_hex(prediction.get())), expected.value.hex());
    EXPECT_EQ(std::string(cvm_prediction_algorithm(prediction.get())), to_string(expected.value.algorithm()));
    ASSERT_EQ(cvm_prediction_register_count(prediction.get()), expected.registers.size());
    ASSERT_GT(expected.registers.size(), 1u) << "the model reports several registers";
    for (std::size_t i = 0; i < expected.registers.size(); ++i) {
        const char *name = nullptr, *hex = nullptr;
        ASSERT_EQ(cvm_prediction_register(prediction.get(), i, &name, &hex), CVM_OK);
        EXPECT_EQ(std::string(name), expected.registers[i].name);
        EXPECT_EQ(std::string(hex), expected.registers[i].value.hex());
    }
    EXPECT_EQ(cvm_prediction_register(prediction.get(), expected.registers.size(), nullptr, nullptr), CVM_ERR_ARGUMENT);
    char* json = nullptr;
    ASSERT_EQ(cvm_prediction_to_json(prediction.get(), &json), CVM_OK);
    EXPECT_EQ(take(json), expected.to_json());
}

TEST(CApi, ErrorsAreStatusCodesWithMessages) {
    cvm_spec* spec = nullptr;
    EXPECT_EQ(cvm_spec_new(nullptr, &spec), CVM_ERR_ARGUMENT);
    EXPECT_STREQ(cvm_last_error(), "technology is NULL");
    EXPECT_EQ(spec, nullptr);

    auto unknown = c_spec("no-such-technology");
    cvm_plan* plan = nullptr;
    EXPECT_EQ(cvm_plan_build(unknown.get(), &plan), CVM_ERR_INPUT);
    EXPECT_EQ(plan, nullptr);
    EXPECT_NE(std::string(cvm_last_error()).find("unknown technology 'no-such-technology'"), std::string::npos)
        << cvm_last_error();
    EXPECT_NE(std::string(cvm_last_error()).find("plain"), std::string::npos) << "lists the known technologies";

    auto plain = c_spec("plain");
    EXPECT_EQ(cvm_spec_add_image_file(plain.get(), CVM_IMAGE_KERNEL, "/nonexistent/bzImage", 0, 0), CVM_ERR_SYSTEM);
    EXPECT_EQ(cvm_last_errno(), ENOENT);
    EXPECT_NE(std::string(cvm_last_error()).find("/nonexistent/bzImage"), std::string::npos) << cvm_last_error();

    EXPECT_EQ(cvm_spec_add_image_buffer(plain.get(), static_cast<cvm_image_role>(99), "x", 1, 0, 0), CVM_ERR_ARGUMENT);
    EXPECT_EQ(cvm_spec_add_image_buffer(plain.get(), CVM_IMAGE_KERNEL, "x", 1, 0x80, 0), CVM_ERR_ARGUMENT);
    EXPECT_EQ(cvm_spec_add_image_buffer(plain.get(), CVM_IMAGE_KERNEL, "x", 1, CVM_IMAGE_AT_GPA, 0x1000),
              CVM_ERR_ARGUMENT);
    EXPECT_EQ(cvm_spec_add_image_buffer(plain.get(), CVM_IMAGE_KERNEL, nullptr, 1, 0, 0), CVM_ERR_ARGUMENT);
    EXPECT_EQ(cvm_spec_set_vcpus(plain.get(), 0), CVM_ERR_ARGUMENT);

    // A malformed kernel: the parser's file, offset and expectation come through.
    std::vector<std::uint8_t> junk(4096, 0);
    ASSERT_EQ(cvm_spec_add_image_buffer(plain.get(), CVM_IMAGE_KERNEL, junk.data(), junk.size(), 0, 0), CVM_OK);
    EXPECT_EQ(cvm_plan_build(plain.get(), &plan), CVM_ERR_INPUT);
    std::string message = cvm_last_error();
    EXPECT_NE(message.find("kernel buffer"), std::string::npos) << message;
    EXPECT_NE(message.find("offset 0x"), std::string::npos) << message;
    EXPECT_NE(message.find("expected"), std::string::npos) << message;
    EXPECT_EQ(cvm_last_errno(), 0);

    auto options = c_spec("plain");
    ASSERT_EQ(cvm_spec_add_image_buffer(options.get(), CVM_IMAGE_KERNEL, cvmtest::synthetic_bzimage().data(),
                                        cvmtest::synthetic_bzimage().size(), 0, 0), CVM_OK);
    ASSERT_EQ(cvm_spec_set_option(options.get(), "policy", "0x1"), CVM_OK);
    EXPECT_EQ(cvm_plan_build(options.get(), &plan), CVM_ERR_INPUT);
    EXPECT_NE(std::string(cvm_last_error()).find("has no option 'policy'"), std::string::npos) << cvm_last_error();

    EXPECT_EQ(cvm_predict(nullptr, nullptr), CVM_ERR_ARGUMENT);
    EXPECT_STREQ(cvm_status_name(CVM_ERR_INPUT), "CVM_ERR_INPUT");
    EXPECT_STREQ(cvm_exit_reason_name(CVM_EXIT_TRIPLE_FAULT), "triple-fault");
}

TEST(CApi, TheLastErrorBelongsToItsThread) {
    cvm_spec* spec = nullptr;
    ASSERT_EQ(cvm_spec_new(nullptr, &spec), CVM_ERR_ARGUMENT);
    std::string other;
    std::thread([&] {
        other = cvm_last_error();
        cvm_launch* launch = nullptr;
        EXPECT_EQ(cvm_launch_new(nullptr), CVM_ERR_ARGUMENT);
        (void)launch;
    }).join();
    EXPECT_EQ(other, "");
    EXPECT_STREQ(cvm_last_error(), "technology is NULL");
}

TEST(CApi, NullHandlesAreHarmless) {
    cvm_spec_free(nullptr);
    cvm_plan_free(nullptr);
    cvm_prediction_free(nullptr);
    cvm_launch_free(nullptr);
    cvm_free(nullptr);
    EXPECT_EQ(cvm_plan_technology(nullptr), nullptr);
    EXPECT_EQ(cvm_prediction_hex(nullptr), nullptr);
    EXPECT_EQ(cvm_prediction_bytes(nullptr, nullptr), 0u);
    EXPECT_STREQ(cvm_launch_exit_detail(nullptr), "");
}

TEST(CApi, LaunchSettingsAreChecked) {
    cvm_launch* raw = nullptr;
    ASSERT_EQ(cvm_launch_new(&raw), CVM_OK);
    Owned<cvm_launch> launch(raw);
    EXPECT_EQ(cvm_launch_set_console_fd(launch.get(), -3), CVM_ERR_ARGUMENT);
    EXPECT_EQ(cvm_launch_set_vm_fd(launch.get(), -2, 0), CVM_ERR_ARGUMENT);
    EXPECT_EQ(cvm_launch_set_device(launch.get(), nullptr), CVM_ERR_ARGUMENT);
    EXPECT_EQ(cvm_launch_run(launch.get(), nullptr), CVM_ERR_ARGUMENT);
    EXPECT_STREQ(cvm_launch_exit_detail(launch.get()), "");
}

#if defined(__x86_64__)
TEST(CApi, ALaunchThatCannotOpenKvmFailsWithErrno) {
    auto spec = c_spec("plain");
    auto kernel = cvmtest::synthetic_bzimage();
    ASSERT_EQ(cvm_spec_add_image_buffer(spec.get(), CVM_IMAGE_KERNEL, kernel.data(), kernel.size(), 0, 0), CVM_OK);
    auto plan = c_plan(spec.get());
    cvm_launch* raw = nullptr;
    ASSERT_EQ(cvm_launch_new(&raw), CVM_OK);
    Owned<cvm_launch> launch(raw);
    ASSERT_EQ(cvm_launch_set_device(launch.get(), "/nonexistent/kvm"), CVM_OK);
    EXPECT_EQ(cvm_launch_run(launch.get(), plan.get()), CVM_ERR_SYSTEM);
    EXPECT_EQ(cvm_last_errno(), ENOENT);
    EXPECT_NE(std::string(cvm_last_error()).find("/nonexistent/kvm"), std::string::npos) << cvm_last_error();
}
#endif

} // namespace

// A C verifier: the log cvm_plan_event_log wrote verifies against the
// prediction with the kernel in a sha256sum list, and names what disagrees.
TEST(CApi, LogVerifyAsTheCliDoes) {
    auto kernel_bytes = cvmtest::synthetic_bzimage();
    TempFile kernel(kernel_bytes);
    auto spec = c_spec("plain");
    ASSERT_EQ(cvm_spec_add_image_file(spec.get(), CVM_IMAGE_KERNEL, kernel.path(), 0, 0), CVM_OK);
    auto plan = c_plan(spec.get());
    auto prediction = c_predict(plan.get());
    const std::uint8_t* value = nullptr;
    const std::size_t value_size = cvm_prediction_bytes(prediction.get(), &value);
    std::uint8_t* log = nullptr;
    std::size_t log_size = 0;
    ASSERT_EQ(cvm_plan_event_log(plan.get(), &log, &log_size), CVM_OK) << cvm_last_error();
    std::unique_ptr<std::uint8_t, void (*)(void*)> owned_log(log, cvm_free);
    const std::string sums = hash(HashAlgorithm::sha256, ByteSpan(kernel_bytes)).hex() + "  " + kernel.path() + "\n";
    TempFile list(std::vector<std::uint8_t>(sums.begin(), sums.end()));

    int match = -1;
    char* report = nullptr;
    ASSERT_EQ(cvm_log_verify(log, log_size, list.path(), value, value_size, &match, &report), CVM_OK)
        << cvm_last_error();
    EXPECT_EQ(match, 1);
    auto verdict = nlohmann::json::parse(take(report));
    EXPECT_EQ(verdict["technology"], "plain");
    EXPECT_EQ(verdict["match"], true);
    EXPECT_EQ(verdict["replayed"], cvm_prediction_hex(prediction.get()));
    EXPECT_TRUE(verdict["failures"].empty());

    std::vector<std::uint8_t> other(value, value + value_size);
    other[0] ^= 1;
    ASSERT_EQ(cvm_log_verify(log, log_size, list.path(), other.data(), other.size(), &match, nullptr), CVM_OK);
    EXPECT_EQ(match, 0);

    std::vector<std::uint8_t> garbage(log, log + 16);
    EXPECT_EQ(cvm_log_verify(garbage.data(), garbage.size(), list.path(), value, value_size, &match, nullptr),
              CVM_ERR_INPUT);
    EXPECT_NE(std::string(cvm_last_error()), "");
    EXPECT_EQ(cvm_log_verify(log, log_size, nullptr, value, value_size, &match, nullptr), CVM_ERR_ARGUMENT);
}

TEST(CApi, TechnologyOptionsAreWhatSpecsTake) {
    for (std::size_t i = 0; i < cvm_technology_count(); ++i) {
        char* out = nullptr;
        ASSERT_EQ(cvm_technology_options_json(i, &out), CVM_OK) << cvm_last_error();
        auto options = nlohmann::json::parse(take(out));
        const auto& backend = find_backend(cvm_technology_name(i));
        ASSERT_EQ(options.size(), backend.options().size()) << cvm_technology_name(i);
        for (std::size_t k = 0; k < options.size(); ++k) {
            EXPECT_EQ(options[k]["name"], backend.options()[k].name);
            EXPECT_EQ(options[k]["default"], backend.options()[k].default_value);
            EXPECT_EQ(options[k]["kind"], backend.options()[k].kind == OptionKind::number ? "number" : "text");
        }
    }
    char* out = nullptr;
    EXPECT_EQ(cvm_technology_options_json(cvm_technology_count(), &out), CVM_ERR_INPUT);
}

namespace {

std::vector<std::uint8_t> unhex(const std::string& hex) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

// The SEV vectors' README 4.1(b): the LAUNCH_MEASURE blob of FW_SYN with
// K_SYN+I+C under TIK 00..0f, API 1.55 build 21, policy 1, and that row's
// launch digest from golden.tsv (sev-snp-measure).
const std::string kBlob = "cb29014d14420b574d027a193760be7ad8a1670841553869a99f7660a99a583b"
                          "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
const std::string kDigest = "6bb8e4821dfc8c07af6eb44653af6f3115864d5715148759da099606e80fdd3b";

std::string request_json(unsigned build, unsigned policy) {
    return nlohmann::json{{"technology", "amd-sev"}, {"measure", kBlob}, {"api_major", 1}, {"api_minor", 55},
                          {"build", build},           {"policy", policy}, {"secret_gpa", 0x80d000}, {"secret_size", 4096}}
        .dump();
}

} // namespace

TEST(CApi, TheGuestOwnersReplyIsCheckedWithOpenSsl) {
    std::uint8_t tik[16], tek[16];
    for (int i = 0; i < 16; ++i) tik[i] = static_cast<std::uint8_t>(i), tek[i] = static_cast<std::uint8_t>(0x10 + i);
    std::vector<std::uint8_t> secret(32, 0x42);
    const auto digest = unhex(kDigest);
    int proven = -1;
    char* raw = nullptr;
    ASSERT_EQ(cvm_sev_owner_reply(request_json(21, 1).c_str(), digest.data(), digest.size(), 1, tik, tek, secret.data(),
                                  secret.size(), &proven, &raw), CVM_OK) << cvm_last_error();
    Owned<char> reply(raw);
    EXPECT_EQ(proven, 1);
    auto j = nlohmann::json::parse(reply.get());
    ASSERT_EQ(j.at("action"), "inject") << reply.get();
    const auto header = unhex(j.at("header").get<std::string>());
    const auto cipher = unhex(j.at("secret").get<std::string>());
    ASSERT_EQ(header.size(), 52u);
    ASSERT_EQ(cipher.size(), 32u);
    // AES-128-CTR with the TEK and the header's IV gives the secret back.
    std::vector<std::uint8_t> plain(cipher.size());
    int n = 0;
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    EVP_DecryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, tek, header.data() + 4);
    EVP_DecryptUpdate(ctx, plain.data(), &n, cipher.data(), static_cast<int>(cipher.size()));
    EVP_CIPHER_CTX_free(ctx);
    EXPECT_EQ(plain, secret);
    // The MAC of the SEV API's LAUNCH_SECRET over the blob's MEASURE.
    std::vector<std::uint8_t> message{0x01};
    message.insert(message.end(), header.begin(), header.begin() + 20);
    for (int k = 0; k < 2; ++k) message.insert(message.end(), {32, 0, 0, 0});
    message.insert(message.end(), cipher.begin(), cipher.end());
    const auto measure = unhex(kBlob.substr(0, 64));
    message.insert(message.end(), measure.begin(), measure.end());
    std::uint8_t mac[32];
    unsigned mac_len = 0;
    HMAC(EVP_sha256(), tik, 16, message.data(), message.size(), mac, &mac_len);
    EXPECT_EQ(std::vector<std::uint8_t>(header.begin() + 20, header.end()), std::vector<std::uint8_t>(mac, mac + 32));

    // Another firmware build, or another policy: a refusal, not an error.
    for (auto [build, policy] : {std::pair<unsigned, unsigned>{22, 1}, {21, 5}}) {
        ASSERT_EQ(cvm_sev_owner_reply(request_json(build, policy).c_str(), digest.data(), digest.size(), 1, tik, tek,
                                      secret.data(), secret.size(), &proven, &raw), CVM_OK) << cvm_last_error();
        Owned<char> refusal(raw);
        EXPECT_EQ(proven, 0);
        EXPECT_EQ(nlohmann::json::parse(refusal.get()).at("action"), "abort") << refusal.get();
    }
    // A malformed request is an input error naming the key.
    EXPECT_EQ(cvm_sev_owner_reply("{\"technology\":\"amd-sev\"}", digest.data(), digest.size(), 1, tik, nullptr, nullptr,
                                  0, &proven, &raw), CVM_ERR_INPUT);
    EXPECT_NE(std::string(cvm_last_error()).find("lacks"), std::string::npos) << cvm_last_error();
}

TEST(CApi, AnOwnerOnATechnologyWithoutTheRoundTripFailsTheLaunch) {
    auto spec = c_spec("plain");
    const auto kernel = cvmtest::synthetic_bzimage();
    ASSERT_EQ(cvm_spec_add_image_buffer(spec.get(), CVM_IMAGE_KERNEL, kernel.data(), kernel.size(), 0, 0), CVM_OK);
    auto plan = c_plan(spec.get());
    cvm_launch* raw = nullptr;
    ASSERT_EQ(cvm_launch_new(&raw), CVM_OK);
    Owned<cvm_launch> launch(raw);
    static int called = 0;
    auto owner = [](void*, const char*, char** reply) -> cvm_status {
        ++called;
        *reply = strdup("{\"action\":\"finish\"}");
        return CVM_OK;
    };
    ASSERT_EQ(cvm_launch_set_owner(launch.get(), owner, nullptr), CVM_OK);
    EXPECT_NE(cvm_launch_run(launch.get(), plan.get()), CVM_OK);
    EXPECT_NE(std::string(cvm_last_error()).find("no guest-owner round trip"), std::string::npos) << cvm_last_error();
    EXPECT_EQ(called, 0);
    EXPECT_EQ(cvm_launch_set_owner_fds(launch.get(), -1, 3), CVM_ERR_ARGUMENT);
    EXPECT_EQ(cvm_launch_set_owner_command(launch.get(), nullptr), CVM_ERR_ARGUMENT);
}

TEST(CApi, ThePdhChainOfARealPlatformAndAFlippedByte) {
    // AMD's Rome ARK/ASK and a real platform's CEK/PEK/OCA/PDH (virtee/sev
    // test data; tests/vectors/sev/certs/PROVENANCE.md).
    auto cert = [](const char* name) { return cvmtest::vector_path(std::string("sev/certs/rome/") + name); };
    int trusted = -1;
    char* raw = nullptr;
    ASSERT_EQ(cvm_sev_verify_pdh_chain(cert("pdh.cert").c_str(), cert("pek.cert").c_str(), cert("oca.cert").c_str(),
                                       cert("cek.cert").c_str(), cert("ask.cert").c_str(), cert("ark.cert").c_str(),
                                       &trusted, &raw), CVM_OK) << cvm_last_error();
    Owned<char> report(raw);
    EXPECT_EQ(trusted, 1) << report.get();
    EXPECT_TRUE(nlohmann::json::parse(report.get()).at("failures").empty());

    // One bit of the PDH's signature flipped: well-formed, but untrusted.
    std::ifstream in(cert("pdh.cert"), std::ios::binary);
    std::vector<std::uint8_t> pdh((std::istreambuf_iterator<char>(in)), {});
    ASSERT_EQ(pdh.size(), 0x824u);
    pdh[0x41c] ^= 1;  // first byte of signature 1's R
    TempFile bad(pdh);
    ASSERT_EQ(cvm_sev_verify_pdh_chain(bad.path(), cert("pek.cert").c_str(), cert("oca.cert").c_str(),
                                       cert("cek.cert").c_str(), cert("ask.cert").c_str(), cert("ark.cert").c_str(),
                                       &trusted, &raw), CVM_OK) << cvm_last_error();
    Owned<char> failed(raw);
    EXPECT_EQ(trusted, 0);
    EXPECT_FALSE(nlohmann::json::parse(failed.get()).at("failures").empty()) << failed.get();
    // The ARK given as the PDH is not a certificate of that role.
    EXPECT_EQ(cvm_sev_verify_pdh_chain(cert("ark.cert").c_str(), cert("pek.cert").c_str(), cert("oca.cert").c_str(),
                                       cert("cek.cert").c_str(), cert("ask.cert").c_str(), cert("ark.cert").c_str(),
                                       &trusted, nullptr), CVM_ERR_INPUT);
}

TEST(CApi, TheOwnersDhCertificateHoldsTheKeysPointAsOpenSslPrintsIt) {
    // Key and its point from the openssl command line, not from libcvm.
    char dir[] = "/tmp/capi-owner-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string key = std::string(dir) + "/owner.pem";
    ASSERT_EQ(std::system(("openssl ecparam -name secp384r1 -genkey -noout -out " + key + " 2>/dev/null").c_str()), 0);
    FILE* p = popen(("openssl ec -in " + key + " -pubout -outform DER 2>/dev/null | tail -c 97 | od -An -tx1 -v").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string hex;
    for (int c; (c = fgetc(p)) != EOF;)
        if (std::isxdigit(c)) hex += static_cast<char>(c);
    pclose(p);
    ASSERT_EQ(hex.size(), 194u);  // 04 || X || Y
    std::ifstream in(key);
    std::string pem((std::istreambuf_iterator<char>(in)), {});
    std::uint8_t* raw = nullptr;
    std::size_t size = 0;
    ASSERT_EQ(cvm_sev_owner_dh_certificate(pem.c_str(), 0, 1, 55, &raw, &size), CVM_OK) << cvm_last_error();
    std::unique_ptr<std::uint8_t, void (*)(void*)> cert(raw, cvm_free);
    ASSERT_EQ(size, 0x824u);
    // QX at 0x14 and QY at 0x5c, little-endian in 72 bytes (SEV API appendix C).
    auto be = [&](std::size_t at) {
        std::string out;
        for (int i = 47; i >= 0; --i) out += fmt::format("{:02x}", raw[at + i]);
        return out;
    };
    EXPECT_EQ(be(0x14), hex.substr(2, 96));
    EXPECT_EQ(be(0x5c), hex.substr(98, 96));
    std::system(("rm -rf " + std::string(dir)).c_str());
}

TEST(CApi, TheSnpIdBlockOfSevSnpMeasuresPublishedTest) {
    // virtee/sev-snp-measure's tests/test_id_block.py: its LD, policy 0x30000
    // and test keys give this ID block and these key digests
    // (tests/vectors/sev/idblock/PROVENANCE.md).
    auto pem = [](const char* name) {
        std::ifstream in(cvmtest::vector_path(std::string("sev/idblock/") + name));
        return std::string((std::istreambuf_iterator<char>(in)), {});
    };
    const auto ld = unhex("076f052d08bda7a700aa2a608c5caa6b00ebad297b6d68a85a45b1e669a558b6"
                          "7e1b91d284a301fe63c4fa0750467eed");
    std::uint8_t block[96], auth[4096], id_digest[48], author_digest[48];
    ASSERT_EQ(cvm_snp_sign_id_block(ld.data(), 0x30000, nullptr, nullptr, 0, pem("id_key_test.pem").c_str(),
                                    pem("author_key_test.pem").c_str(), block, auth, id_digest, author_digest),
              CVM_OK) << cvm_last_error();
    auto hex = [](const std::uint8_t* p, std::size_t n) { return cvm::to_hex(cvm::ByteSpan(p, n)); };
    EXPECT_EQ(hex(block, 96), "076f052d08bda7a700aa2a608c5caa6b00ebad297b6d68a85a45b1e669a558b67e1b91d284a301fe63c4fa07"
                              "50467eed0000000000000000000000000000000000000000000000000000000000000000010000000000"
                              "00000000030000000000");
    EXPECT_EQ(hex(id_digest, 48), "870b7e35c53f8a72d0d322f75ab2af8262792aaf6579622ce4131c3f21f289e77cb0560a5e3b90b3932e"
                                  "674ec709cb14");
    EXPECT_EQ(hex(author_digest, 48), "63111c34bbfc0a4938f9a009bd074980d8172323e61599c9fd336da8673248e1dca98d0be8f7637"
                                      "6a106b8afd4c0a057");
    // A key on another curve is refused by name.
    EXPECT_EQ(cvm_snp_sign_id_block(ld.data(), 0x30000, nullptr, nullptr, 0, "not a key", nullptr, block, auth,
                                    id_digest, nullptr), CVM_ERR_INPUT);
}

TEST(CApi, ReferenceValuesAreWhatTheCliWrites) {
    // keybroker's JSON for the CCA vectors' firmware; the CLI test checks the
    // RIM inside against cca-realm-measurements.
    auto spec = c_spec("arm-cca");
    ASSERT_EQ(cvm_spec_add_image_file(spec.get(), CVM_IMAGE_FIRMWARE, cvmtest::vector_path("cca/firmware").c_str(), 0, 0),
              CVM_OK) << cvm_last_error();
    ASSERT_EQ(cvm_spec_set_memory(spec.get(), 1ull << 30), CVM_OK);
    ASSERT_EQ(cvm_spec_set_vcpus(spec.get(), 2), CVM_OK);
    ASSERT_EQ(cvm_spec_set_option(spec.get(), "layout", "qemu"), CVM_OK);
    ASSERT_EQ(cvm_spec_set_option(spec.get(), "hash", "sha256"), CVM_OK);
    auto plan = c_plan(spec.get());
    std::uint8_t* raw = nullptr;
    std::size_t size = 0;
    ASSERT_EQ(cvm_reference_values(plan.get(), "keybroker", &raw, &size), CVM_OK) << cvm_last_error();
    std::unique_ptr<std::uint8_t, void (*)(void*)> bytes(raw, cvm_free);
    const std::string cli_command = std::string(std::getenv("CVM_LAUNCH") ? std::getenv("CVM_LAUNCH") : "") +
                                    " measure --tech arm-cca --layout qemu --hash sha256 --vcpus 2 --memory 1G --firmware " +
                                    cvmtest::vector_path("cca/firmware") + " --reference-format keybroker";
    if (std::getenv("CVM_LAUNCH")) {
        FILE* p = popen(cli_command.c_str(), "r");
        ASSERT_NE(p, nullptr);
        std::string cli;
        for (int c; (c = fgetc(p)) != EOF;) cli += static_cast<char>(c);
        pclose(p);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(raw), size), cli);
    }
    EXPECT_FALSE(nlohmann::json::parse(std::string(reinterpret_cast<const char*>(raw), size)).at("reference-values").empty());
    EXPECT_EQ(cvm_reference_values(plan.get(), "yaml", &raw, &size), CVM_ERR_INPUT);
}
