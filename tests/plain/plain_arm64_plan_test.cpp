// The plain backend's arm64 plans: an arm64 Image gets libcvm's arm64
// machine, with the kernel, initrd and DTB exactly where an arm-cca realm of
// the libcvm layout puts them. The DTB differs only where ordinary KVM does:
// PSCI through HVC and no "realm" in the model. Runs on every host: plans
// need no KVM.
#include <gtest/gtest.h>

#include <libfdt.h>
#include <map>
#include <string>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "plan_loads.hpp"
#include "synthetic_images.hpp"
#include "test_paths.hpp"

using namespace cvm;

namespace {

VmSpec arm64_spec(unsigned vcpus = 2) {
    VmSpec spec;
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = vcpus;
    spec.cmdline = "console=ttyS0 panic=-1";
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(cvmtest::synthetic_arm64_image(256, 0x2d10000), "Image"),
                           true, {}});
    spec.images.push_back({ImageRole::initrd, Payload::map_file(cvmtest::vector_path("cca/initrd-14B")), true, {}});
    return spec;
}

using cvmtest::loads;

std::map<std::string, std::uint64_t> boot_registers(const LaunchPlan& plan) {
    std::map<std::string, std::uint64_t> regs;
    for (const auto& o : plan.operations())
        if (auto* s = std::get_if<op::SetRegisters>(&o))
            for (const auto& r : s->registers) regs[r.name] = r.value;
    return regs;
}

std::string dtb_string(const op::LoadData& dtb, const char* path, const char* property) {
    auto bytes = dtb.data.bytes();
    std::vector<std::uint8_t> aligned(bytes.begin(), bytes.end());  // libfdt reads 32-bit words
    int node = fdt_path_offset(aligned.data(), path);
    if (node < 0) return "<no node>";
    int length = 0;
    auto* value = static_cast<const char*>(fdt_getprop(aligned.data(), node, property, &length));
    return value ? std::string(value) : "<no property>";
}

TEST(PlainArm64Plan, SamePlacementAsTheLibcvmRealmLayout) {
    VmSpec spec = arm64_spec();
    LaunchPlan plain = find_backend("plain").build_plan(spec);
    spec.technology = "arm-cca";
    LaunchPlan realm = find_backend("arm-cca").build_plan(spec);
    auto p = loads(plain), r = loads(realm);
    ASSERT_EQ(p.size(), 3u);
    for (const char* label : {"kernel", "initrd", "dtb"}) {
        ASSERT_TRUE(p.count(label) && r.count(label)) << label;
        EXPECT_EQ(p[label]->gpa, r[label]->gpa) << label;
        EXPECT_TRUE(p[label]->measured) << label;
    }
    // The trees differ by a few bytes (the model string), the images not at all.
    for (const char* label : {"kernel", "initrd"}) EXPECT_EQ(p[label]->data.size(), r[label]->data.size()) << label;
    EXPECT_EQ(p["kernel"]->gpa, 0x80000000u);  // this kernel's text_offset is 0
    EXPECT_TRUE(std::equal(p["kernel"]->data.bytes().begin(), p["kernel"]->data.bytes().end(),
                           r["kernel"]->data.bytes().begin()));

    auto pr = boot_registers(plain), rr = boot_registers(realm);
    EXPECT_EQ(pr["pc"], rr["pc"]);
    EXPECT_EQ(pr["x0"], rr["x0"]);
    EXPECT_EQ(pr["x0"], p["dtb"]->gpa);
    EXPECT_EQ(pr["x1"], 0u);
    EXPECT_EQ(pr["x2"], 0u);
    EXPECT_EQ(pr["x3"], 0u);
    EXPECT_EQ(pr["pstate"], 0x3c5u);  // EL1h, D A I F masked

    // The trees: the same machine, with the conduit of whoever implements PSCI.
    EXPECT_EQ(dtb_string(*p["dtb"], "/psci", "method"), "hvc");
    EXPECT_EQ(dtb_string(*r["dtb"], "/psci", "method"), "smc");
    EXPECT_EQ(dtb_string(*p["dtb"], "/", "model"), "linux,dummy-virt");
    EXPECT_EQ(dtb_string(*r["dtb"], "/", "model"), "linux,dummy-virt-realm");
    EXPECT_EQ(dtb_string(*p["dtb"], "/chosen", "bootargs"), "console=ttyS0 panic=-1");
    EXPECT_EQ(dtb_string(*p["dtb"], "/uart@1000000", "compatible"), "ns16550a");
    EXPECT_EQ(dtb_string(*p["dtb"], "/intc@3fff0000", "compatible"), "arm,gic-v3");
}

TEST(PlainArm64Plan, CreateVmNamesTheArchitectureAndIpaWidth) {
    LaunchPlan plan = find_backend("plain").build_plan(arm64_spec());
    const auto& create = std::get<op::CreateVm>(plan.operations().front());
    std::map<std::string, std::string> params;
    for (const auto& field : create.fields()) params[field.name] = field.value;
    EXPECT_EQ(params["arch"], "arm64");
    EXPECT_EQ(params["ipa_bits"], "33");  // RAM ends at 2 GiB + 64 MiB
    EXPECT_EQ(params["irqchip"], "gicv3");
    std::vector<std::string> names;
    for (const auto& o : plan.operations()) names.emplace_back(operation_name(o));
    EXPECT_EQ(names, (std::vector<std::string>{"create-vm", "add-memory", "add-device", "add-device", "load-data",
                                                "load-data", "load-data", "create-vcpus", "set-registers",
                                                "finalize"}));
}

// The device records are what the DTB describes, read back with libfdt.
TEST(PlainArm64Plan, DeviceRecordsAreWhatTheDtbDescribes) {
    LaunchPlan plan = find_backend("plain").build_plan(arm64_spec(3));
    auto gic = plan.devices(DeviceKind::gic_v3);
    auto uart = plan.devices(DeviceKind::uart_16550);
    ASSERT_EQ(gic.size(), 1u);
    ASSERT_EQ(uart.size(), 1u);
    ASSERT_EQ(gic[0]->regions.size(), 2u);
    EXPECT_EQ(gic[0]->regions[0].base, 0x3fff0000u);
    EXPECT_EQ(gic[0]->regions[0].size, 0x10000u);
    EXPECT_EQ(gic[0]->regions[1].base, 0x3fff0000u - 3 * 0x20000u);  // one 128 KiB redistributor per vCPU
    EXPECT_EQ(gic[0]->regions[1].size, 3 * 0x20000u);
    ASSERT_EQ(uart[0]->regions.size(), 1u);
    EXPECT_EQ(uart[0]->regions[0].base, 0x01000000u);
    EXPECT_EQ(uart[0]->regions[0].size, 8u);
    EXPECT_EQ(uart[0]->interrupt, std::optional<std::uint32_t>(0));

    auto p = loads(plan);
    auto bytes = p["dtb"]->data.bytes();
    std::vector<std::uint8_t> tree(bytes.begin(), bytes.end());
    auto cells = [&](const char* path) {
        int length = 0;
        auto* v = static_cast<const fdt32_t*>(fdt_getprop(tree.data(), fdt_path_offset(tree.data(), path), "reg", &length));
        std::vector<std::uint64_t> out;
        for (int i = 0; v && i + 1 < length / 4; i += 2) out.push_back(std::uint64_t{fdt32_to_cpu(v[i])} << 32 | fdt32_to_cpu(v[i + 1]));
        return out;
    };
    EXPECT_EQ(cells("/intc@3fff0000"), (std::vector<std::uint64_t>{gic[0]->regions[0].base, gic[0]->regions[0].size,
                                                                   gic[0]->regions[1].base, gic[0]->regions[1].size}));
    EXPECT_EQ(cells("/uart@1000000"), (std::vector<std::uint64_t>{0x01000000, 8}));
}

TEST(PlainArm64Plan, UnmeasuredImagesStayUnmeasured) {
    VmSpec spec = arm64_spec();
    spec.images[1].measured = false;
    LaunchPlan plan = find_backend("plain").build_plan(spec);  // loads() points into it
    auto l = loads(plan);
    EXPECT_TRUE(l["kernel"]->measured);
    EXPECT_FALSE(l["initrd"]->measured);
    EXPECT_TRUE(l["dtb"]->measured);
}

TEST(PlainArm64Plan, RefusesWhatTheMachineCannotBe) {
    VmSpec many = arm64_spec(17);
    try {
        find_backend("plain").build_plan(many);
        FAIL() << "17 vCPUs accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("1 to 16"), std::string::npos) << e.what();
    }
    VmSpec firmware = arm64_spec();
    firmware.images.push_back({ImageRole::firmware, Payload::from_bytes({1, 2, 3}, "fw"), true, {}});
    EXPECT_THROW(find_backend("plain").build_plan(firmware), Error);
    VmSpec odd = arm64_spec();
    odd.memory.size = (64ull << 20) + 4096;
    EXPECT_THROW(find_backend("plain").build_plan(odd), Error);
}

TEST(PlainArm64Plan, MeasurementIsDeterministicAndCoversTheDtb) {
    auto a = find_backend("plain").predict(find_backend("plain").build_plan(arm64_spec()));
    auto b = find_backend("plain").predict(find_backend("plain").build_plan(arm64_spec()));
    EXPECT_EQ(a.value.hex(), b.value.hex());
    auto three = find_backend("plain").predict(find_backend("plain").build_plan(arm64_spec(3)));
    EXPECT_NE(a.value.hex(), three.value.hex());  // the DTB lists the CPUs
}

#if !defined(__aarch64__)
TEST(PlainArm64Plan, LaunchOnAnotherArchitectureSaysWhy) {
    LaunchPlan plan = find_backend("plain").build_plan(arm64_spec());
    RunOptions options;
    try {
        find_backend("plain").launch(plan, options);
        FAIL() << "an arm64 plan launched on a non-arm64 host";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("needs an arm64 host"), std::string::npos) << e.what();
    }
}
#endif

} // namespace
