// The SEV, SEV-ES and SNP predictors against the public vectors of
// tests/vectors/sev (made with virtee/sev-snp-measure, see its README):
// every row of golden.tsv (digests and expected errors), the kernel-hashes
// tables and VMSA pages byte for byte, the first SNP PAGE_INFO step, the
// firmware-only "OVMF hash" values and the reference tool's own assertions.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "backends/amd-sev/kernel_hashes.hpp"
#include "backends/amd-sev/launch_config.hpp"
#include "backends/amd-sev/ovmf_table.hpp"
#include "backends/amd-sev/snp_page_info.hpp"
#include "backends/amd-sev/vmsa.hpp"
#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/sev_reference.hpp"
#include "test_files.hpp"
#include "test_paths.hpp"

using namespace cvm;

namespace {

const std::string kCmdline = "console=ttyS0 root=/dev/vda";

const std::map<std::string, std::string> kFirmwares{
    {"FW_DEB12", "sev/OVMF-deb12.fd"}, {"FW_AMDSEV_SUFFIX", "sev/ovmf_AmdSev_suffix.bin"}, {"FW_SYN", "sev/synthetic_fw.bin"}};

std::string firmware_file(const std::string& symbol) { return cvmtest::vector_path(kFirmwares.at(symbol)); }

// Why firmware `symbol` (an external input, for two of them) is absent, or "".
std::string firmware_missing(const std::string& symbol) { return cvmtest::vector_missing(kFirmwares.at(symbol)); }

using cvmtest::read_file;

struct Row {
    std::string firmware, mode, vcpus, vcpu_type, inputs, expected;
};

std::vector<Row> golden_rows() {
    std::ifstream in(cvmtest::vector_path("sev/golden.tsv"));
    std::vector<Row> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#' || line.starts_with("firmware\t")) continue;
        std::istringstream fields(line);
        Row r;
        std::getline(fields, r.firmware, '\t');
        std::getline(fields, r.mode, '\t');
        std::getline(fields, r.vcpus, '\t');
        std::getline(fields, r.vcpu_type, '\t');
        std::getline(fields, r.inputs, '\t');
        std::getline(fields, r.expected);
        rows.push_back(r);
    }
    return rows;
}

std::string technology(const std::string& mode) {
    if (mode == "sev") return "amd-sev";
    if (mode == "seves") return "amd-sev-es";
    return "amd-sev-snp";
}

VmSpec spec_for(const Row& r) {
    VmSpec spec;
    spec.technology = technology(r.mode);
    spec.memory.size = 64ull << 20;
    spec.images.push_back({ImageRole::firmware, Payload::map_file(firmware_file(r.firmware)), true, {}});
    if (r.inputs != "none")
        spec.images.push_back({ImageRole::kernel, Payload::map_file(cvmtest::vector_path("sev/kernel.bin")), true, {}});
    if (r.inputs == "K_SYN+I+C") {
        spec.images.push_back({ImageRole::initrd, Payload::map_file(cvmtest::vector_path("sev/initrd.bin")), true, {}});
        spec.cmdline = kCmdline;
    }
    if (r.vcpus != "-") spec.vcpus.count = static_cast<unsigned>(std::stoul(r.vcpus));
    if (r.vcpu_type != "-") spec.options["vcpu-type"] = r.vcpu_type;
    return spec;
}

std::string predict_hex(const VmSpec& spec) {
    const Backend& backend = find_backend(spec.technology);
    return backend.predict(backend.build_plan(spec)).value.hex();
}

TEST(SevGolden, FortyRows) { EXPECT_EQ(golden_rows().size(), 40u); }

// Every row of one firmware: a case per firmware, so that the rows of an
// absent external input are one skip naming it.
class SevGoldenRows : public testing::TestWithParam<std::string> {};

TEST_P(SevGoldenRows, EveryRow) {
    if (auto why = firmware_missing(GetParam()); !why.empty()) GTEST_SKIP() << why;
    std::size_t checked = 0;
    for (const auto& r : golden_rows()) {
        if (r.firmware != GetParam()) continue;
        ++checked;
        SCOPED_TRACE(r.firmware + " " + r.mode + " " + r.vcpus + " " + r.inputs);
        VmSpec spec = spec_for(r);
        if (r.expected.starts_with("ERROR: ")) {
            std::string message = r.expected.substr(std::string("ERROR: Error: ").size());
            try {
                predict_hex(spec);
                ADD_FAILURE() << "expected an error: " << message;
            } catch (const Error& e) {
                EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
                EXPECT_NE(std::string(e.what()).find(firmware_file(r.firmware)), std::string::npos)
                    << "the error names the firmware: " << e.what();
            }
        } else {
            EXPECT_EQ(predict_hex(spec), r.expected);
        }
    }
    EXPECT_GT(checked, 0u);
}

INSTANTIATE_TEST_SUITE_P(Firmware, SevGoldenRows, testing::Values("FW_SYN", "FW_DEB12", "FW_AMDSEV_SUFFIX"));

TEST(SevGolden, TwoVcpuRunsOfTheVmsaDumps) {
    Row seves{"FW_SYN", "seves", "2", "EPYC-v4", "none", ""};
    EXPECT_EQ(predict_hex(spec_for(seves)), "8817d3adaba6689c30f5eef5e1388e62ec8ed88dab332d585c9eaa0bdc7bb6bd");
    Row snp{"FW_SYN", "snp", "2", "EPYC-v4", "none", ""};
    EXPECT_EQ(predict_hex(spec_for(snp)),
              "d710efd2ffd1e0cc671dd3f024c1de50529df7de23e06a7198af05374d98e206a6c3f62b643f77f207635ce5d8865cd9");
}

// tests/test_guest.py of the reference tool: empty kernel and initrd files.
TEST(SevGolden, ReferenceToolGuestFeatureAssertions) {
    if (auto why = firmware_missing("FW_AMDSEV_SUFFIX"); !why.empty()) GTEST_SKIP() << why;
    for (auto [features, expected] : {std::pair{"0x1", "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa"},
                                      std::pair{"0x21", "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"}}) {
        VmSpec spec;
        spec.technology = "amd-sev-snp";
        spec.memory.size = 64ull << 20;
        spec.images.push_back({ImageRole::firmware, Payload::map_file(firmware_file("FW_AMDSEV_SUFFIX")), true, {}});
        spec.images.push_back({ImageRole::kernel, Payload::from_bytes({}, "/dev/null"), true, {}});
        spec.images.push_back({ImageRole::initrd, Payload::from_bytes({}, "/dev/null"), true, {}});
        spec.cmdline = "console=ttyS0 loglevel=7";
        spec.options = {{"vcpu-type", "EPYC-v4"}, {"guest-features", features}};
        EXPECT_EQ(predict_hex(spec), expected) << features;
    }
}

void expect_error(VmSpec spec, const std::string& fragment) {
    try {
        predict_hex(spec);
        ADD_FAILURE() << "accepted; expected an error mentioning " << fragment;
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

TEST(SevGolden, ConfigurationsOutsideTheModelFailClosed) {
    Row snp{"FW_SYN", "snp", "1", "EPYC-v4", "none", ""};
    auto spec = spec_for(snp);
    spec.options["vcpu-type"] = "EPYC-v5";
    expect_error(spec, "EPYC-Milan");                    // lists the known models
    spec = spec_for(snp);
    spec.options["guest-features"] = "0x20";
    expect_error(spec, "SNPActive");
    spec = spec_for(snp);
    spec.options["sev-init"] = "legacy";                 // SNP has no legacy init
    expect_error(spec, "sev-init");
    spec = spec_for(snp);
    spec.options["policy"] = "0x0";
    expect_error(spec, "bit 17");

    Row es{"FW_SYN", "seves", "1", "EPYC-v4", "none", ""};
    spec = spec_for(es);
    spec.options["policy"] = "0x1";
    expect_error(spec, "bit 2");
    spec = spec_for(es);
    spec.images.push_back({ImageRole::dtb, Payload::from_bytes({0xd0, 0x0d, 0xfe, 0xed}, "x.dtb"), true, {}});
    expect_error(spec, "dtb");
    spec = spec_for(es);
    spec.cmdline = "console=ttyS0";                      // a command line without a kernel
    expect_error(spec, "needs a kernel");
    spec = spec_for(es);
    spec.memory.size = 4ull << 20;                       // below the firmware's sections at 8 MiB
    expect_error(spec, "give the guest more memory");

    Row sev{"FW_SYN", "sev", "-", "-", "none", ""};
    spec = spec_for(sev);
    spec.options["vcpu-type"] = "EPYC";                  // SEV has no VMSA: no vCPU type
    expect_error(spec, "vcpu-type");
}

TEST(SevHashTable, ByteForByte) {
    auto kernel = Payload::map_file(cvmtest::vector_path("sev/kernel.bin"));
    auto initrd = Payload::map_file(cvmtest::vector_path("sev/initrd.bin"));
    auto full = sev::build_hash_table(kernel, &initrd, kCmdline);
    EXPECT_EQ(std::vector<std::uint8_t>(full.begin(), full.end()),
              read_file(cvmtest::vector_path("sev/sev_hash_table_ksyn_initrd_cmdline.bin")));
    auto only = sev::build_hash_table(kernel, nullptr, "");
    EXPECT_EQ(std::vector<std::uint8_t>(only.begin(), only.end()),
              read_file(cvmtest::vector_path("sev/sev_hash_table_ksyn_only.bin")));
}

// The VMSAs come from the plan's register state, as the launcher sets it
// (the public sev::vmsa_pages, which --dump-vmsa prints).
std::vector<std::vector<std::uint8_t>> plan_vmsas(const std::string& mode) {
    Row row{"FW_SYN", mode, "2", "EPYC-v4", "none", ""};
    VmSpec spec = spec_for(row);
    return sev::vmsa_pages(find_backend(spec.technology).build_plan(spec));
}

TEST(SevVmsa, ByteForByte) {
    auto es = plan_vmsas("seves");
    ASSERT_EQ(es.size(), 2u);
    EXPECT_EQ(es[0], read_file(cvmtest::vector_path("sev/vmsa_seves_epyc-v4_bsp.bin")));
    EXPECT_EQ(es[1], read_file(cvmtest::vector_path("sev/vmsa_seves_epyc-v4_ap.bin")));
    auto snp = plan_vmsas("snp");
    ASSERT_EQ(snp.size(), 2u);
    EXPECT_EQ(snp[0], read_file(cvmtest::vector_path("sev/vmsa_snp_epyc-v4_bsp.bin")));
    EXPECT_EQ(snp[1], read_file(cvmtest::vector_path("sev/vmsa_snp_epyc-v4_ap.bin")));
}

TEST(SnpPageInfo, FirstStepOfSyntheticFirmware) {
    auto fw = Payload::map_file(firmware_file("FW_SYN"));
    sev::SnpLaunchDigest ld;
    auto info = ld.page_info(0xffffe000, sev::uapi::kSnpPageNormal, fw.bytes().subspan(0, 4096));
    EXPECT_EQ(to_hex(info),
              std::string(96, '0') +
                  "166f9617070665894eb30e3968ee7642d7fd459089bee2ccae3aa4ae1b658eb53e2780a0b9e10ae5efe7ed112be3bf59"
                  "70000100000000000" "0e0ffff00000000");
    ld.add_page(0xffffe000, sev::uapi::kSnpPageNormal, fw.bytes().subspan(0, 4096));
    EXPECT_EQ(ld.value().hex(),
              "cd19cdd26c5795801d065afba77ad9efa6c71d17402b19ac8ab3850d8aca58ccef501995ccdb09b936d87c15cddb518f");
}

class FirmwareOnlyOvmfHash : public testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(FirmwareOnlyOvmfHash, OfEachFirmware) {
    const auto [symbol, hex] = GetParam();
    if (auto why = firmware_missing(symbol); !why.empty()) GTEST_SKIP() << why;
    EXPECT_EQ(sev::snp_ovmf_hash(Payload::map_file(firmware_file(symbol))).hex(), hex) << symbol;
}

INSTANTIATE_TEST_SUITE_P(SnpPageInfo, FirmwareOnlyOvmfHash, testing::Values(
    std::pair{"FW_SYN", "9b94e92bac1b1123017f07a6e8d06b98fada040e141553735c05f2df3033b340c52989d1af2916c8108dbc528739793f"},
    std::pair{"FW_DEB12", "ba2c811512ef868474f239a21f7d7057d65a20de87a003c4f116e4fb1573183bfbcd75c3e99b2f558575a5d0094f73c6"},
    std::pair{"FW_AMDSEV_SUFFIX", "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"}));

} // namespace

// What the SEV launchers serve OVMF through fw_cfg is what the reference
// tool's hashes table measures (README: sev_hash_table_ksyn_initrd_cmdline.bin,
// SevHashes(kernel.bin, initrd.bin, cmdline)): an AmdSev OVMF, hashing the
// blobs it reads, would find each digest in the measured table.
TEST(SevFwCfg, ServesTheBytesTheHashesTableMeasures) {
    Row row{"FW_SYN", "snp", "1", "EPYC-v4", "K_SYN+I+C", ""};
    VmSpec spec = spec_for(row);
    LaunchPlan plan = find_backend(spec.technology).build_plan(spec);
    const op::AddDevice* fw_cfg = nullptr;
    for (const auto& operation : plan.operations())
        if (const auto* d = std::get_if<op::AddDevice>(&operation); d && d->kind == DeviceKind::fw_cfg_io) fw_cfg = d;
    ASSERT_NE(fw_cfg, nullptr);
    std::map<std::string, std::vector<std::uint8_t>> files;
    for (const auto& f : fw_cfg->files) files[f.name].assign(f.data.bytes().begin(), f.data.bytes().end());
    // OVMF's QemuKernelLoaderFsDxe: the kernel blob is setup then kernel.
    std::vector<std::uint8_t> kernel = files["setup"];
    kernel.insert(kernel.end(), files["kernel"].begin(), files["kernel"].end());
    const auto table = read_file(cvmtest::vector_path("sev/sev_hash_table_ksyn_initrd_cmdline.bin"));
    auto in_table = [&table](const std::vector<std::uint8_t>& blob) {
        const auto digest = hash(HashAlgorithm::sha256, ByteSpan(blob));
        return std::search(table.begin(), table.end(), digest.bytes().begin(), digest.bytes().end()) != table.end();
    };
    EXPECT_TRUE(in_table(kernel));
    EXPECT_TRUE(in_table(files["initrd"]));
    EXPECT_TRUE(in_table(files["cmdline"]));  // with its NUL, as QEMU hashes it
    EXPECT_EQ(files["cmdline"].back(), 0);
}
