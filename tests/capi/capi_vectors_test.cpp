// Every public vector of every compiled-in technology through the C ABI:
// tests/capi/public_vectors.json lists them (the SEV rows come from
// sev/golden.tsv itself, read here). The Python module checks the same list.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cvm/cvm.h"
#include "test_paths.hpp"

namespace {

struct Case {
    std::string name, technology, cmdline, expected;
    std::uint64_t memory = 0;
    unsigned vcpus = 1;
    std::vector<std::pair<std::string, std::string>> options;
    std::vector<std::pair<cvm_image_role, std::string>> images;
};

cvm_image_role role_of(const std::string& name) {
    if (name == "kernel") return CVM_IMAGE_KERNEL;
    if (name == "initrd") return CVM_IMAGE_INITRD;
    if (name == "firmware") return CVM_IMAGE_FIRMWARE;
    if (name == "dtb") return CVM_IMAGE_DTB;
    throw std::runtime_error("unknown role " + name);
}

// A path from the vector list: relative to the vectors directory (the
// project's own or a fetched external input), or "$NAME" for a path named in
// the environment.
std::string image_path(const std::string& listed) {
    if (listed.empty() || listed[0] != '$') return cvmtest::vector_path(listed);
    const char* value = std::getenv(listed.c_str() + 1);
    if (!value || !*value) throw std::runtime_error(listed + " is not set in the environment");
    return value;
}

std::vector<Case> load_cases() {
    const char* file = std::getenv("CVM_BINDING_VECTORS");
    if (!file) return {};
    std::ifstream in(file);
    auto spec = nlohmann::json::parse(in);
    std::vector<Case> cases;
    for (const auto& c : spec["cases"]) {
        Case k;
        k.name = c["name"];
        k.technology = c["technology"];
        k.memory = c["memory"];
        k.vcpus = c["vcpus"];
        k.cmdline = c.value("cmdline", "");
        k.expected = c["expected"];
        for (const auto& [key, value] : c["options"].items()) k.options.emplace_back(key, value);
        for (const auto& image : c["images"]) k.images.emplace_back(role_of(image[0]), image[1]);
        cases.push_back(k);
    }
    const auto& sev = spec["sev_golden"];
    std::ifstream table(cvmtest::vector_path(sev["file"]));
    std::string line;
    while (std::getline(table, line)) {
        if (line.empty() || line[0] == '#' || line.starts_with("firmware\t")) continue;
        std::istringstream fields(line);
        std::string firmware, mode, vcpus, vcpu_type, inputs, expected;
        std::getline(fields, firmware, '\t');
        std::getline(fields, mode, '\t');
        std::getline(fields, vcpus, '\t');
        std::getline(fields, vcpu_type, '\t');
        std::getline(fields, inputs, '\t');
        std::getline(fields, expected);
        Case k;
        k.name = "sev " + firmware + " " + mode + " " + vcpus + " " + inputs;
        k.technology = sev["technology"][mode];
        k.memory = sev["memory"];
        k.vcpus = vcpus == "-" ? 1 : static_cast<unsigned>(std::stoul(vcpus));
        if (vcpu_type != "-") k.options.emplace_back("vcpu-type", vcpu_type);
        k.images.emplace_back(CVM_IMAGE_FIRMWARE, sev["firmware"][firmware]);
        if (inputs != "none") k.images.emplace_back(CVM_IMAGE_KERNEL, sev["kernel"]);
        if (inputs == "K_SYN+I+C") {
            k.images.emplace_back(CVM_IMAGE_INITRD, sev["initrd"]);
            k.cmdline = sev["cmdline"];
        }
        k.expected = expected;
        cases.push_back(k);
    }
    return cases;
}

std::set<std::string> technologies() {
    std::set<std::string> names;
    for (size_t i = 0; i < cvm_technology_count(); ++i) names.insert(cvm_technology_name(i));
    return names;
}

// The C ABI's prediction for `c`, or "ERROR: <message>".
std::string predict(const Case& c) {
    cvm_spec* spec = nullptr;
    cvm_plan* plan = nullptr;
    cvm_prediction* prediction = nullptr;
    cvm_status status = cvm_spec_new(c.technology.c_str(), &spec);
    if (status == CVM_OK) status = cvm_spec_set_memory(spec, c.memory);
    if (status == CVM_OK) status = cvm_spec_set_vcpus(spec, c.vcpus);
    if (status == CVM_OK) status = cvm_spec_set_cmdline(spec, c.cmdline.c_str());
    for (const auto& [key, value] : c.options)
        if (status == CVM_OK) status = cvm_spec_set_option(spec, key.c_str(), value.c_str());
    for (const auto& [role, path] : c.images)
        if (status == CVM_OK) status = cvm_spec_add_image_file(spec, role, image_path(path).c_str(), 0, 0);
    if (status == CVM_OK) status = cvm_plan_build(spec, &plan);
    if (status == CVM_OK) status = cvm_predict(plan, &prediction);
    std::string result = status == CVM_OK ? cvm_prediction_hex(prediction) : std::string("ERROR: ") + cvm_last_error();
    if (status != CVM_OK) {
        EXPECT_EQ(status, CVM_ERR_INPUT) << result;
    }
    cvm_prediction_free(prediction);
    cvm_plan_free(plan);
    cvm_spec_free(spec);
    return result;
}

// The external inputs (tests/vectors/external.tsv) the cases need that are
// not here, and how many cases need them.
std::map<std::string, std::size_t> absent_inputs(const std::vector<Case>& cases) {
    std::map<std::string, std::size_t> absent;
    for (const auto& c : cases)
        for (const auto& [role, path] : c.images)
            if (!std::filesystem::exists(image_path(path))) ++absent[image_path(path)];
    return absent;
}

// Every case whose inputs are here; ExternalInputs reports those that are not.
TEST(CApiVectors, EveryPublicVectorOfEveryCompiledInTechnology) {
    auto cases = load_cases();
    ASSERT_GE(cases.size(), 15u + 40u) << "CVM_BINDING_VECTORS is not set or incomplete";
    auto known = technologies();
    const auto absent = absent_inputs(cases);
    std::size_t checked = 0;
    for (const auto& c : cases) {
        if (!known.count(c.technology)) continue;
        if (std::any_of(c.images.begin(), c.images.end(),
                        [&](const auto& image) { return absent.count(image_path(image.second)) != 0; }))
            continue;
        SCOPED_TRACE(c.name);
        auto got = predict(c);
        if (c.expected.starts_with("ERROR: ")) {
            std::string message = c.expected.substr(c.expected.find(": ", 7) + 2);
            EXPECT_TRUE(got.starts_with("ERROR: ")) << got;
            EXPECT_NE(got.find(message), std::string::npos) << got << "\nexpected: " << message;
        } else {
            EXPECT_EQ(got, c.expected);
        }
        ++checked;
    }
    RecordProperty("checked", static_cast<int>(checked));
    std::printf("checked %zu of %zu public vectors through the C ABI\n", checked, cases.size());
}

TEST(CApiVectors, ExternalInputs) {
    const auto absent = absent_inputs(load_cases());
    if (absent.empty()) return;
    std::string list;
    for (const auto& [path, cases] : absent) list += fmt::format("; {} ({} cases)", path, cases);
    GTEST_SKIP() << "vectors not checked, their external inputs (tests/vectors/external.tsv) are absent: "
                    "scripts/fetch-vectors fetches them" << list;
}

std::vector<std::uint8_t> from_hex(const std::string& hex) {
    std::vector<std::uint8_t> bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return bytes;
}

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string hex;
    for (std::uint8_t b : bytes) {
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    return hex;
}

// The runtime-extend rules (CCA REM, CoVE runtime register) of the list's
// "runtime_extend" rows, through cvm_runtime_extend.
TEST(CApiVectors, RuntimeExtendRules) {
    const char* file = std::getenv("CVM_BINDING_VECTORS");
    ASSERT_NE(file, nullptr) << "CVM_BINDING_VECTORS is not set";
    std::ifstream in(file);
    auto rows = nlohmann::json::parse(in)["runtime_extend"];
    ASSERT_GE(rows.size(), 5u);
    auto known = technologies();
    for (const auto& row : rows) {
        std::string technology = row["technology"], expected = row["expected"];
        if (!known.count(technology)) continue;
        SCOPED_TRACE(row["name"].get<std::string>());
        auto old_value = from_hex(row["old"]);
        auto value = from_hex(row["value"]);
        std::vector<std::uint8_t> out(old_value.size());
        cvm_status status = cvm_runtime_extend(technology.c_str(), old_value.data(), old_value.size(),
                                               value.data(), value.size(), out.data());
        if (expected.starts_with("ERROR: ")) {
            EXPECT_EQ(status, CVM_ERR_INPUT);
            EXPECT_NE(std::string(cvm_last_error()).find(expected.substr(7)), std::string::npos) << cvm_last_error();
        } else {
            ASSERT_EQ(status, CVM_OK) << cvm_last_error();
            EXPECT_EQ(to_hex(out), expected);
        }
    }
    // In place, as the header allows: old_value and out the same buffer.
    auto rem = from_hex(rows[0]["old"]);
    auto value = from_hex(rows[0]["value"]);
    ASSERT_EQ(cvm_runtime_extend(rows[0]["technology"].get<std::string>().c_str(), rem.data(), rem.size(),
                                 value.data(), value.size(), rem.data()), CVM_OK);
    EXPECT_EQ(to_hex(rem), rows[0]["expected"].get<std::string>());
    // A register size that names no hash is the caller's mistake.
    std::uint8_t odd[20] = {};
    EXPECT_EQ(cvm_runtime_extend("arm-cca", odd, sizeof odd, nullptr, 0, odd), CVM_ERR_INPUT);
}

} // namespace
