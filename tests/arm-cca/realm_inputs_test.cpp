// Bad inputs to the arm-cca planner: each gives a cvm::Error naming the
// file, the offset and what was expected; configurations outside the model
// fail closed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <libfdt.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "synthetic_images.hpp"
#include "test_files.hpp"
#include "test_paths.hpp"

using namespace cvm;

namespace {

std::vector<std::uint8_t> file_bytes(const std::string& name) {
    return cvmtest::read_file(cvmtest::vector_path("cca/" + name));
}

VmSpec spec_with(std::vector<std::uint8_t> kernel, const std::string& layout = "libcvm") {
    VmSpec spec;
    spec.technology = "arm-cca";
    spec.memory.size = 256ull << 20;
    spec.options["layout"] = layout;
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(std::move(kernel), "Image"), true, {}});
    return spec;
}

Error plan_error(const VmSpec& spec) {
    try {
        find_backend("arm-cca").build_plan(spec);
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "the spec was accepted";
    return Error("none");
}

void put_le(std::vector<std::uint8_t>& b, std::size_t off, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

TEST(RealmInputs, ImageHeaderErrorsAreLocated) {
    auto good = cvmtest::synthetic_arm64_image(256, 0x2d10000);
    ASSERT_EQ(good.size(), 256u);
    EXPECT_NO_THROW(find_backend("arm-cca").build_plan(spec_with(good)));

    auto bad_magic = good;
    bad_magic[56] = 'X';
    auto e = plan_error(spec_with(bad_magic));
    EXPECT_EQ(e.where(), "Image");
    EXPECT_EQ(e.offset(), 56u);

    e = plan_error(spec_with(std::vector<std::uint8_t>(good.begin(), good.begin() + 40)));
    EXPECT_EQ(e.offset(), 0u);

    auto big_endian = good;
    put_le(big_endian, 24, 0xb, 8);
    e = plan_error(spec_with(big_endian));
    EXPECT_EQ(e.offset(), 24u);
    EXPECT_NE(std::string(e.what()).find("little-endian"), std::string::npos) << e.what();

    auto no_size = good;
    put_le(no_size, 16, 0, 8);
    e = plan_error(spec_with(no_size, "qemu"));
    EXPECT_EQ(e.offset(), 16u);

    auto odd_offset = good;
    put_le(odd_offset, 8, 0x80, 8);
    e = plan_error(spec_with(odd_offset, "kvmtool"));
    EXPECT_EQ(e.offset(), 8u);
}

VmSpec with_dtb(std::vector<std::uint8_t> dtb) {
    auto spec = spec_with(cvmtest::synthetic_arm64_image(256, 0x2d10000), "qemu");
    spec.vcpus.count = 2;  // the CPUs of qemu-k256.dtb
    spec.images.push_back({ImageRole::dtb, Payload::from_bytes(std::move(dtb), "given.dtb"), true, {}});
    return spec;
}

TEST(RealmInputs, DtbErrorsAreLocated) {
    auto good = file_bytes("qemu-k256.dtb");
    ASSERT_EQ(fdt_check_full(good.data(), good.size()), 0);
    EXPECT_NO_THROW(find_backend("arm-cca").build_plan(with_dtb(good)));

    auto e = plan_error(with_dtb(std::vector<std::uint8_t>(good.begin(), good.begin() + 20)));
    EXPECT_EQ(e.where(), "given.dtb");
    EXPECT_EQ(e.offset(), 0u);

    auto bad_magic = good;
    bad_magic[0] = 0;
    EXPECT_EQ(plan_error(with_dtb(bad_magic)).offset(), 0u);

    auto too_long = good;
    too_long[4] = 0x7f;  // totalsize far beyond the file
    EXPECT_EQ(plan_error(with_dtb(too_long)).offset(), 4u);

    // A property tag replaced by garbage inside the structure block.
    auto bad_tag = good;
    const std::uint32_t off_struct = fdt_off_dt_struct(good.data());
    const std::size_t where = off_struct + 8;  // root node name, then its first property tag
    bad_tag[where + 3] = 0x77;
    e = plan_error(with_dtb(bad_tag));
    ASSERT_TRUE(e.offset().has_value());
    EXPECT_GE(*e.offset(), off_struct);
    EXPECT_LE(*e.offset(), where);
}

TEST(RealmInputs, GeneratedTreesPassLibfdt) {
    for (const char* layout : {"libcvm", "kvmtool", "qemu"}) {
        auto spec = spec_with(cvmtest::synthetic_arm64_image(256, 0x2d10000), layout);
        spec.vcpus.count = 4;
        spec.cmdline = "console=ttyS0 earlycon";
        auto plan = find_backend("arm-cca").build_plan(spec);
        bool found = false;
        for (const auto& operation : plan.operations())
            if (auto* load = std::get_if<op::LoadData>(&operation); load && load->label == "dtb") {
                auto b = load->data.bytes();
                EXPECT_EQ(fdt_check_full(b.data(), b.size()), 0) << layout;
                int chosen = fdt_path_offset(b.data(), "/chosen");
                ASSERT_GE(chosen, 0) << layout;
                int len = 0;
                auto* args = static_cast<const char*>(fdt_getprop(b.data(), chosen, "bootargs", &len));
                ASSERT_NE(args, nullptr) << layout;
                EXPECT_NE(std::string(args).find("earlycon"), std::string::npos);
                // Debian's device-tree-compiler must decompile it.
                std::string path = ::testing::TempDir() + "realm-" + layout + ".dtb";
                std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()),
                                                            static_cast<std::streamsize>(b.size()));
                std::string command = "dtc -q -I dtb -O dts -o /dev/null " + path;
                EXPECT_EQ(std::system(command.c_str()), 0) << command;
                std::remove(path.c_str());
                found = true;
            }
        EXPECT_TRUE(found) << layout;
    }
}

TEST(RealmInputs, FailsClosed) {
    auto kernel = cvmtest::synthetic_arm64_image(256, 0x2d10000);
    auto expect_error = [&](const std::string& key, const std::string& value) {
        auto spec = spec_with(kernel);
        spec.options[key] = value;
        EXPECT_THROW(find_backend("arm-cca").build_plan(spec), Error) << key << "=" << value;
    };
    expect_error("rmm", "1.1");
    expect_error("hash", "sha384");
    expect_error("num-bps", "1");
    expect_error("num-wps", "65");
    expect_error("sve-vl", "100");
    expect_error("pmu", "on");           // without pmu-counters
    expect_error("ipa-bits", "31");
    expect_error("rpv", std::string(130, 'a'));
    expect_error("layout", "firecracker");
    expect_error("no-such-option", "1");

    auto big_ipa = spec_with(kernel, "qemu");
    big_ipa.memory.size = 1ull << 47;  // the QEMU memory map would need 49 IPA bits
    EXPECT_THROW(find_backend("arm-cca").build_plan(big_ipa), Error);

    auto odd_memory = spec_with(kernel, "kvmtool");
    odd_memory.memory.size = (256ull << 20) + 4096;
    EXPECT_THROW(find_backend("arm-cca").build_plan(odd_memory), Error);

    auto blob = spec_with(kernel);
    blob.images.push_back({ImageRole::blob, Payload::from_bytes({1, 2, 3}, "blob"), true, 0x90000000});
    EXPECT_THROW(find_backend("arm-cca").build_plan(blob), Error);
}

TEST(RealmInputs, PredictorRejectsPlansOutsideTheModel) {
    const auto& backend = find_backend("arm-cca");
    auto plan = backend.build_plan(spec_with(cvmtest::synthetic_arm64_image(256, 0x2d10000)));
    // A granule loaded twice.
    LaunchPlan twice("arm-cca", plan.algorithm());
    for (const auto& operation : plan.operations()) {
        if (std::holds_alternative<op::CreateVcpus>(operation))
            twice.add(op::LoadData{0x80000000, Payload::from_bytes({1}, "x"), true, "again", {}});
        twice.add(operation);
    }
    EXPECT_THROW(backend.predict(twice), Error);
    // An unknown realm parameter: the text form of a configuration is
    // refused with it, so no plan rebuilt from text carries it.
    auto fields = std::get<op::CreateVm>(plan.operations().front()).fields();
    EXPECT_NO_THROW(backend.decode_config(fields));
    fields.push_back({"lpa2", "1"});
    EXPECT_THROW(backend.decode_config(fields), Error);
    // Another backend's configuration.
    LaunchPlan foreign("arm-cca", plan.algorithm());
    for (const auto& operation : plan.operations()) {
        if (std::holds_alternative<op::CreateVm>(operation))
            foreign.add(op::CreateVm{find_backend("plain").decode_config(
                std::vector<ConfigField>{{"arch", "x86_64"}, {"irqchip", "in-kernel"}})});
        else
            foreign.add(operation);
    }
    EXPECT_THROW(backend.predict(foreign), Error);
    // No finalize: the realm would never be activated.
    LaunchPlan open("arm-cca", plan.algorithm());
    for (const auto& operation : plan.operations())
        if (!std::holds_alternative<op::Finalize>(operation)) open.add(operation);
    EXPECT_THROW(backend.predict(open), Error);
}

TEST(RealmInputs, Rmm2DropsRipasOnly) {
    const auto& backend = find_backend("arm-cca");
    auto spec = spec_with(cvmtest::synthetic_arm64_image(256, 0x2d10000));
    auto v1 = backend.events(backend.build_plan(spec));
    spec.options["rmm"] = "2.0";
    auto v2 = backend.events(backend.build_plan(spec));
    std::size_t ripas = 0;
    for (const auto& e : v1) ripas += e.kind == "ripas";
    EXPECT_GT(ripas, 0u);
    EXPECT_EQ(v2.size() + ripas, v1.size());
    for (const auto& e : v2) EXPECT_NE(e.kind, "ripas");
}

} // namespace

// Found by the options fuzzer: a host IPA limit under RAM that does not fit
// it made the RIPAS walk enumerate blocks until memory ran out. RAM must fit
// the realm's whole IPA space; RAM that does, even above the protected half
// (kvmtool -m 4G with s2sz 33, a reference-tool row), is still planned.
TEST(RealmInputs, RamOutsideTheIpaSpaceIsRefused) {
    for (std::string layout : {"libcvm", "kvmtool", "qemu"}) {
        SCOPED_TRACE(layout);
        auto spec = spec_with(cvmtest::synthetic_arm64_image(256, 0x2d10000), layout);
        spec.memory.size = 2ull << 40;  // 2 TiB
        spec.options["ipa-bits"] = "40";
        Error e = plan_error(spec);
        EXPECT_NE(std::string(e.what()).find("does not fit the realm's 40-bit IPA space"), std::string::npos) << e.what();
    }
    auto fits = spec_with(cvmtest::synthetic_arm64_image(256, 0x2d10000), "kvmtool");
    fits.memory.size = 4ull << 30;
    EXPECT_NO_THROW(find_backend("arm-cca").predict(find_backend("arm-cca").build_plan(fits)));
}
