// Each backend's VM configuration has one text form: the fields its planner
// writes decode to a typed value whose fields are the same again, and any
// other list (reordered, missing, extra, a number written another way, a
// value out of range or unknown) is refused with the field named.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"

using namespace cvm;

namespace {

using Fields = std::vector<ConfigField>;

// The create-vm of each backend as docs/plain-measurement.md, docs/amd-sev.md,
// docs/arm-cca.md and docs/riscv-cove.md spell it.
const Fields kPlainX86{{"arch", "x86_64"}, {"irqchip", "in-kernel"}};
const Fields kPlainArm64{{"arch", "arm64"}, {"ipa_bits", "33"}, {"irqchip", "gicv3"}};
const Fields kPlainRiscv64{{"arch", "riscv64"}, {"isa", "rv64imafdc_sstc"}, {"timebase-frequency", "10000000"}};
const Fields kSnp{{"mode", "amd-sev-snp"}, {"init", "init2"}, {"vmm", "qemu"}, {"policy", "0x30000"},
                  {"sev-features", "0x1"}};
const Fields kSevOwner{{"mode", "amd-sev"}, {"init", "legacy"}, {"vmm", "qemu"}, {"policy", "0x1"},
                       {"sev-features", "0x0"}, {"owner-dh-cert", "0a0b"}, {"owner-session", "0c"}};
const Fields kCove{{"arch", "riscv64"}, {"vm-type", "0x200"}, {"tsm-abi", "v0.5"},
                   {"covh-add-measured-pages-fid", "10"}, {"measurement-model", "salus"}, {"imsic-num-ids", "255"}};

Fields realm_fields() {
    return {{"layout", "kvmtool"}, {"abi", "auto"},     {"rmm", "1.0"},          {"flags", "0x0"},
            {"s2sz", "40"},        {"sve_vl", "0"},     {"num_bps", "5"},        {"num_wps", "3"},
            {"pmu_num_ctrs", "0"}, {"rpv", std::string(128, '0')}};
}

Fields round_trip(std::string_view backend, const Fields& fields) {
    return find_backend(backend).decode_config(fields)->fields();
}

void expect_refused(std::string_view backend, const Fields& fields, std::string_view named) {
    try {
        find_backend(backend).decode_config(fields);
        ADD_FAILURE() << backend << " accepted a configuration that should be refused (" << named << ")";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
}

Fields with(Fields fields, std::string_view name, std::string value) {
    for (auto& field : fields)
        if (field.name == name) field.value = std::move(value);
    return fields;
}

} // namespace

TEST(VmConfig, EveryBackendReadsBackWhatItWrites) {
    EXPECT_EQ(round_trip("plain", kPlainX86), kPlainX86);
    EXPECT_EQ(round_trip("plain", kPlainArm64), kPlainArm64);
    EXPECT_EQ(round_trip("plain", kPlainRiscv64), kPlainRiscv64);
    EXPECT_EQ(round_trip("amd-sev-snp", kSnp), kSnp);
    EXPECT_EQ(round_trip("amd-sev", kSevOwner), kSevOwner);
    EXPECT_EQ(round_trip("arm-cca", realm_fields()), realm_fields());
    EXPECT_EQ(round_trip("riscv-cove", kCove), kCove);
    Fields no_ids(kCove.begin(), kCove.end() - 1);  // a TVM booted from the user's DTB
    EXPECT_EQ(round_trip("riscv-cove", no_ids), no_ids);
}

TEST(VmConfig, AListInAnotherOrderOrWithAFieldMoreOrLessIsRefused) {
    Fields swapped = kSnp;
    std::swap(swapped[0], swapped[1]);
    expect_refused("amd-sev-snp", swapped, "field mode");
    expect_refused("amd-sev-snp", Fields(kSnp.begin(), kSnp.end() - 1), "sev-features");
    Fields extra = realm_fields();
    extra.push_back({"lpa2", "1"});
    expect_refused("arm-cca", extra, "'lpa2'");
    expect_refused("plain", {}, "arch");
    expect_refused("plain", {{"arch", "mips"}}, "arch");
}

TEST(VmConfig, ANumberHasOneSpelling) {
    // The software measurement hashes the text: "048" and "0x30" would
    // measure differently while meaning 48.
    expect_refused("arm-cca", with(realm_fields(), "s2sz", "0x28"), "expected 40");
    expect_refused("arm-cca", with(realm_fields(), "s2sz", "040"), "s2sz");
    expect_refused("amd-sev-snp", with(kSnp, "policy", "196608"), "expected 0x30000");
    expect_refused("amd-sev-snp", with(kSnp, "policy", "0X30000"), "policy");
    expect_refused("amd-sev", with(kSevOwner, "owner-dh-cert", "0A0B"), "lower-case hex");
    expect_refused("plain", with(kPlainArm64, "ipa_bits", "+33"), "ipa_bits");
}

TEST(VmConfig, OutOfRangeOrUnknownValuesAreRefused) {
    expect_refused("arm-cca", with(realm_fields(), "num_bps", "4294967296"), "num_bps");
    expect_refused("arm-cca", with(realm_fields(), "rmm", "3.0"), "one of 1.0, 2.0");
    expect_refused("arm-cca", with(realm_fields(), "rpv", "00"), "64 bytes");
    expect_refused("arm-cca", with(realm_fields(), "flags", "0x1"), "flags");  // LPA2: not modelled
    expect_refused("plain", with(kPlainArm64, "ipa_bits", "53"), "ipa_bits");
    expect_refused("plain", with(kPlainArm64, "irqchip", "gicv2"), "irqchip");
    expect_refused("plain", with(kPlainRiscv64, "timebase-frequency", "4294967296"), "timebase-frequency");
    expect_refused("riscv-cove", with(kCove, "imsic-num-ids", "100"), "imsic-num-ids");
    expect_refused("riscv-cove", with(kCove, "covh-add-measured-pages-fid", "11"), "AddMeasuredPages");
    expect_refused("riscv-cove", with(kCove, "measurement-model", "acetrace"), "measurement-model");
}

TEST(VmConfig, TheTechnologysOwnRulesApply) {
    // A mode of another technology, SNP without bit 17, an owner half given.
    expect_refused("amd-sev-es", kSnp, "cannot create");
    expect_refused("amd-sev-snp", with(kSnp, "policy", "0x10000"), "bit 17");
    expect_refused("amd-sev", Fields(kSevOwner.begin(), kSevOwner.end() - 1), "both");
}
