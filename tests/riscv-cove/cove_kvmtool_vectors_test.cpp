// libcvm's CoVE DTB region and Salus registers against values that kvmtool's
// own riscv code produced (kvmtool_dtb_vectors.json, whose "about" says how):
// the expected bytes never come from libcvm.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "cove_images.hpp"
#include "cvm/backend.hpp"

using namespace cvm;

namespace {

nlohmann::json vectors() {
    std::ifstream in(COVE_KVMTOOL_VECTORS);
    if (!in) throw std::runtime_error("cannot read " COVE_KVMTOOL_VECTORS);
    return nlohmann::json::parse(in);
}

std::string sha256_hex(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> out(32);
    unsigned n = 0;
    EVP_Digest(data, size, out.data(), &n, EVP_sha256(), nullptr);
    return covetest::hex(out);
}

std::uint64_t hex_number(const nlohmann::json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

std::vector<std::uint8_t> kernel(const nlohmann::json& doc) {
    return covetest::riscv_image(doc["kernel"]["size"].get<std::size_t>(), doc["kernel"]["image_size"].get<std::uint64_t>());
}

VmSpec spec_for(const nlohmann::json& doc, const nlohmann::json& c) {
    VmSpec spec;
    spec.technology = "riscv-cove";
    spec.memory.size = c["memory_mib"].get<std::uint64_t>() << 20;
    spec.vcpus.count = c["vcpus"].get<unsigned>();
    spec.cmdline = c["cmdline"].get<std::string>();
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(kernel(doc), "Image"), true, {}});
    if (!c["initrd"].is_null())
        spec.images.push_back({ImageRole::initrd,
                               Payload::from_bytes(covetest::pattern(c["initrd"]["size"].get<std::size_t>(),
                                                                     c["initrd"]["seed"].get<unsigned>()),
                                                   "initrd"),
                               true, {}});
    spec.options["isa"] = c["isa"].get<std::string>();
    spec.options["cbom-block-size"] = std::to_string(c["cbom_block_size"].get<unsigned>());
    spec.options["imsic-num-ids"] = std::to_string(c["imsic_num_ids"].get<unsigned>());
    spec.options["timebase-frequency"] = std::to_string(c["timebase_frequency"].get<unsigned>());
    return spec;
}

TEST(CoveKvmtoolVectors, InputsAreTheOnesTheOracleRan) {
    auto doc = vectors();
    auto k = kernel(doc);
    EXPECT_EQ(sha256_hex(k.data(), k.size()), doc["kernel"]["sha256"].get<std::string>());
    EXPECT_GE(doc["cases"].size(), 7u);
}

TEST(CoveKvmtoolVectors, DtbRegionAndRegistersMatchKvmtool) {
    auto doc = vectors();
    const Backend& cove = find_backend("riscv-cove");
    for (const auto& c : doc["cases"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        LaunchPlan plan = cove.build_plan(spec_for(doc, c));
        std::vector<const op::LoadData*> loads;
        for (const auto& o : plan.operations())
            if (auto* l = std::get_if<op::LoadData>(&o)) loads.push_back(l);
        // The same measured regions, in the same order, as kvmtool's calls.
        const auto& regions = c["measured_regions"];
        ASSERT_EQ(loads.size(), regions.size());
        for (std::size_t i = 0; i < loads.size(); ++i) {
            EXPECT_EQ(loads[i]->gpa, hex_number(regions[i]["gpa"])) << i;
            EXPECT_EQ(loads[i]->data.size(), regions[i]["size"].get<std::uint64_t>()) << i;
        }
        const op::LoadData* fdt = loads.back();
        EXPECT_EQ(fdt->gpa, hex_number(c["fdt_gpa"]));
        auto bytes = fdt->data.bytes();
        ASSERT_EQ(bytes.size(), 0x10000u);
        EXPECT_EQ(sha256_hex(bytes.data(), bytes.size()), c["fdt_region_sha256"].get<std::string>());
        std::uint32_t totalsize = std::uint32_t{bytes[4]} << 24 | std::uint32_t{bytes[5]} << 16 |
                                  std::uint32_t{bytes[6]} << 8 | bytes[7];
        EXPECT_EQ(totalsize, c["fdt_totalsize"].get<std::uint32_t>());

        Measurement m = cove.predict(plan);
        EXPECT_EQ(m.value.hex(), c["pcr2"].get<std::string>());
        ASSERT_EQ(m.registers.size(), 5u);
        EXPECT_EQ(m.registers[3].value.hex(), c["pcr3"].get<std::string>());
        EXPECT_EQ(m.registers[4].value.hex(), c["tci"].get<std::string>());
    }
}

// kvmtool packs the tree 8 bytes lower than fdt_create wrote it, so the
// last 8 bytes of the strings block stay behind after totalsize, inside the
// measured region: the tail of the first string written, "compatible".
TEST(CoveKvmtoolVectors, StaleBytesAfterTotalsizeAreMeasured) {
    auto doc = vectors();
    const auto& c = doc["cases"][0];
    LaunchPlan plan = find_backend("riscv-cove").build_plan(spec_for(doc, c));
    const op::LoadData* fdt = nullptr;
    for (const auto& o : plan.operations())
        if (auto* l = std::get_if<op::LoadData>(&o)) fdt = l;
    ASSERT_NE(fdt, nullptr);
    auto bytes = fdt->data.bytes();
    std::size_t total = c["fdt_totalsize"].get<std::size_t>();
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data() + total), 8), std::string("patible\0", 8));
    for (std::size_t i = total + 8; i < bytes.size(); ++i) ASSERT_EQ(bytes[i], 0) << i;
}

} // namespace
