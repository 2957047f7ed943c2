// The SEV, SEV-ES (legacy init and INIT2) and SNP launches at the ioctl
// seam, against a fake SEV host: the exact call sequences, the command
// arguments, the bytes given to the firmware (which must be what the
// predictor hashed), and no fd left behind when any call fails.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "backends/amd-sev/sev_uapi.hpp"
#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "fake_sev.hpp"
#include "seam_recorder.hpp"
#include "seam_launch.hpp"
#include "test_paths.hpp"

using namespace cvm;
namespace uapi = cvm::sev::uapi;
using cvmtest::FakeSev;

namespace {

LaunchPlan plan_for(const std::string& tech, unsigned vcpus, std::map<std::string, std::string> options = {}) {
    VmSpec spec;
    spec.technology = tech;
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = vcpus;
    spec.images.push_back({ImageRole::firmware, Payload::map_file(cvmtest::vector_path("sev/synthetic_fw.bin")), true, {}});
    spec.images.push_back({ImageRole::kernel, Payload::map_file(cvmtest::vector_path("sev/kernel.bin")), true, {}});
    spec.options = std::move(options);
    return find_backend(tech).build_plan(spec);
}

template <class T> T args_of(const FakeSev::SevCall& call) {
    T value{};
    EXPECT_EQ(call.args.size(), sizeof(T));
    std::memcpy(&value, call.args.data(), std::min(call.args.size(), sizeof(T)));
    return value;
}

const std::vector<std::string> kPlatform{
    "open /dev/kvm", "kvm KVM_GET_API_VERSION", "kvm KVM_GET_VCPU_MMAP_SIZE",
    "open /dev/sev", "sev SEV_ISSUE_CMD 1",
};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

const std::vector<std::string> kVcpuRegisters(unsigned id) {
    std::string v = "vcpu" + std::to_string(id);
    return {v + " KVM_GET_SREGS", v + " KVM_GET_FPU", v + " KVM_SET_SREGS", v + " KVM_SET_REGS", v + " KVM_SET_FPU",
            v + " KVM_SET_XCRS", v + " KVM_SET_MSRS", v + " KVM_SET_DEBUGREGS"};
}

TEST(SevLaunchSeam, SevLegacySequenceAndMeasuredBytes) {
    FakeSev fake;
    auto plan = plan_for("amd-sev", 1, {{"sev-init", "legacy"}});
    auto result = cvmtest::launch_through(fake, plan);
    EXPECT_EQ(result.reason, ExitReason::triple_fault) << result.detail;
    std::string blob;
    for (int i = 0; i < 48; ++i) blob += "ab";
    EXPECT_NE(result.detail.find("LAUNCH_MEASURE " + blob), std::string::npos) << result.detail;

    auto expected = concat(kPlatform, {
        "kvm KVM_CREATE_VM(0)", "vm KVM_CREATE_IRQCHIP", "vm KVM_SEV_INIT",
        "vm KVM_SET_USER_MEMORY_REGION", "vm KVM_MEMORY_ENCRYPT_REG_REGION",
        "vm KVM_SET_USER_MEMORY_REGION", "vm KVM_MEMORY_ENCRYPT_REG_REGION",
        "vm KVM_SEV_LAUNCH_START", "vm KVM_SEV_LAUNCH_UPDATE_DATA", "vm KVM_SEV_LAUNCH_UPDATE_DATA",
        "vm KVM_CREATE_VCPU", "mmap vcpu0",
        "vm KVM_SEV_LAUNCH_MEASURE", "vm KVM_SEV_LAUNCH_MEASURE", "vm KVM_SEV_LAUNCH_FINISH",
    });
    EXPECT_EQ(fake.log(), expected);

    auto calls = fake.sev_calls();
    ASSERT_EQ(calls.size(), 7u);
    EXPECT_TRUE(calls[0].args.empty());  // KVM_SEV_INIT takes no data
    auto start = args_of<uapi::LaunchStart>(calls[1]);
    EXPECT_EQ(start.policy, 0x1u);
    EXPECT_EQ(start.handle, 0u);
    EXPECT_EQ(start.dh_uaddr, 0u);
    EXPECT_EQ(start.session_uaddr, 0u);
    EXPECT_EQ(args_of<uapi::LaunchUpdateData>(calls[2]).len, 8192u);
    EXPECT_EQ(args_of<uapi::LaunchUpdateData>(calls[3]).len, 176u);
    EXPECT_EQ(args_of<uapi::LaunchMeasure>(calls[4]).len, 0u);   // the length query
    EXPECT_EQ(args_of<uapi::LaunchMeasure>(calls[5]).len, 48u);

    // The firmware was given exactly the bytes whose SHA-256 is the golden
    // digest of FW_SYN + K_SYN (golden.tsv).
    Hasher sha(HashAlgorithm::sha256);
    sha.update(calls[2].data).update(calls[3].data);
    EXPECT_EQ(sha.finish().hex(), "ea8a11c415505fee07b912f5ca910d437737730c13dfbe4245f4ab90da99221e");
}

TEST(SevLaunchSeam, SevEsInit2SequenceAndRegisters) {
    FakeSev fake;
    auto plan = plan_for("amd-sev-es", 2);
    cvmtest::launch_through(fake, plan);
    auto expected = concat(kPlatform, {
        "kvm KVM_CREATE_VM(3)", "vm KVM_CREATE_IRQCHIP", "vm KVM_SEV_INIT2",
        "vm KVM_SET_USER_MEMORY_REGION", "vm KVM_MEMORY_ENCRYPT_REG_REGION",
        "vm KVM_SET_USER_MEMORY_REGION", "vm KVM_MEMORY_ENCRYPT_REG_REGION",
        "kvm KVM_GET_SUPPORTED_CPUID",
        "vm KVM_SEV_LAUNCH_START", "vm KVM_SEV_LAUNCH_UPDATE_DATA", "vm KVM_SEV_LAUNCH_UPDATE_DATA",
        "vm KVM_CREATE_VCPU", "mmap vcpu0", "vcpu0 KVM_SET_CPUID2",
        "vm KVM_CREATE_VCPU", "mmap vcpu1", "vcpu1 KVM_SET_CPUID2",
    });
    expected = concat(expected, kVcpuRegisters(0));
    expected = concat(expected, kVcpuRegisters(1));
    expected = concat(expected, {"vm KVM_SEV_LAUNCH_UPDATE_VMSA", "vm KVM_SEV_LAUNCH_MEASURE",
                                 "vm KVM_SEV_LAUNCH_MEASURE", "vm KVM_SEV_LAUNCH_FINISH"});
    EXPECT_EQ(fake.log(), expected);

    auto calls = fake.sev_calls();
    ASSERT_GE(calls.size(), 2u);
    EXPECT_EQ(calls[0].args, std::vector<std::uint8_t>(48, 0));  // kvm_sev_init all zero
    EXPECT_EQ(args_of<uapi::LaunchStart>(calls[1]).policy, 0x5u);

    // The reset state: BSP at 0xffff0000:0xfff0, AP at the firmware's reset block.
    auto state = fake.vcpu_state();
    kvm_sregs bsp{}, ap{};
    kvm_regs bsp_regs{};
    std::memcpy(&bsp, state.at("vcpu0 KVM_SET_SREGS").data(), sizeof bsp);
    std::memcpy(&ap, state.at("vcpu1 KVM_SET_SREGS").data(), sizeof ap);
    std::memcpy(&bsp_regs, state.at("vcpu0 KVM_SET_REGS").data(), sizeof bsp_regs);
    EXPECT_EQ(bsp.cs.base, 0xffff0000u);
    EXPECT_EQ(bsp.cs.selector, 0xf000u);
    EXPECT_EQ(bsp.cs.type, 0xbu);
    EXPECT_EQ(ap.cs.base, 0x00800000u);
    EXPECT_EQ(bsp_regs.rip, 0xfff0u);
    EXPECT_EQ(bsp_regs.rdx, 0x00800f12u);  // EPYC-v4 signature
    kvm_fpu fpu{};
    std::memcpy(&fpu, state.at("vcpu0 KVM_SET_FPU").data(), sizeof fpu);
    EXPECT_EQ(fpu.mxcsr, 0x1f80u);
    EXPECT_EQ(fpu.fcw, 0x037fu);
}

TEST(SevLaunchSeam, SevEsLegacyUsesEsInitOnADefaultVm) {
    FakeSev fake;
    cvmtest::launch_through(fake, plan_for("amd-sev-es", 1, {{"sev-init", "legacy"}}));
    auto log = fake.log();
    EXPECT_EQ(log[5], "kvm KVM_CREATE_VM(0)");
    EXPECT_EQ(log[7], "vm KVM_SEV_ES_INIT");
    EXPECT_TRUE(fake.sev_calls()[0].args.empty());
}

TEST(SevLaunchSeam, SnpSequence) {
    FakeSev fake;
    auto plan = plan_for("amd-sev-snp", 1);
    cvmtest::launch_through(fake, plan);
    // firmware (2 pages), then the metadata sections of FW_SYN in table order.
    struct Region { std::uint64_t gpa, size; std::uint8_t type; };
    const std::vector<Region> regions{
        {0xffffe000, 0x2000, uapi::kSnpPageNormal}, {0x800000, 0x9000, uapi::kSnpPageZero},
        {0x80a000, 0x3000, uapi::kSnpPageZero},     {0x80d000, 0x1000, uapi::kSnpPageSecrets},
        {0x80e000, 0x1000, uapi::kSnpPageCpuid},    {0x810000, 0x1000, uapi::kSnpPageNormal},
        {0x811000, 0xf000, uapi::kSnpPageZero},
    };
    auto expected = concat(kPlatform, {
        "kvm KVM_CREATE_VM(4)", "vm KVM_CREATE_IRQCHIP", "vm KVM_SEV_INIT2", "vm KVM_ENABLE_CAP",
        "vm KVM_CREATE_GUEST_MEMFD", "vm KVM_SET_USER_MEMORY_REGION2",
        "vm KVM_CREATE_GUEST_MEMFD", "vm KVM_SET_USER_MEMORY_REGION2",
        "kvm KVM_GET_SUPPORTED_CPUID", "vm KVM_SEV_SNP_LAUNCH_START",
    });
    for (const auto& r : regions) {
        expected.push_back("vm KVM_SET_MEMORY_ATTRIBUTES");
        for (std::uint64_t page = 0; page < r.size / 4096; ++page) expected.push_back("vm KVM_SEV_SNP_LAUNCH_UPDATE");
    }
    expected = concat(expected, {"vm KVM_CREATE_VCPU", "mmap vcpu0", "vcpu0 KVM_SET_CPUID2"});
    expected = concat(expected, kVcpuRegisters(0));
    expected.push_back("vm KVM_SEV_SNP_LAUNCH_FINISH");
    EXPECT_EQ(fake.log(), expected);

    auto calls = fake.sev_calls();
    auto init = args_of<uapi::Init>(calls[0]);
    EXPECT_EQ(init.vmsa_features, 0u);  // SNPActive is KVM's to set
    EXPECT_EQ(args_of<uapi::SnpLaunchStart>(calls[1]).policy, 0x30000u);
    std::size_t i = 2;
    for (const auto& r : regions) {
        // The first call of each region covers it whole; KVM advanced page by page.
        auto update = args_of<uapi::SnpLaunchUpdate>(calls[i]);
        EXPECT_EQ(update.gfn_start, r.gpa >> 12);
        EXPECT_EQ(update.len, r.size);
        EXPECT_EQ(update.type, r.type);
        if (r.type == uapi::kSnpPageCpuid) {
            std::uint32_t count = 0;
            std::memcpy(&count, calls[i].data.data(), 4);
            EXPECT_EQ(count, 2u) << "the CPUID page carries the fake's two leaves";
        }
        i += r.size / 4096;
    }
    EXPECT_EQ(calls.back().id, uapi::kSnpLaunchFinish);
    EXPECT_EQ(args_of<uapi::SnpLaunchFinish>(calls.back()).id_block_en, 0u);
}

std::string write_temp(const std::string& name, std::size_t size, std::uint8_t fill) {
    std::string path = ::testing::TempDir() + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::vector<std::uint8_t> bytes(size, fill);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return path;
}

TEST(SevLaunchSeam, GuestOwnerSessionGoesToLaunchStart) {
    auto cert = write_temp("owner-pdh.cert", 2084, 0x33);
    auto session = write_temp("owner-session.bin", 128, 0x44);
    FakeSev fake;
    cvmtest::launch_through(fake, plan_for("amd-sev", 1, {{"owner-dh-cert", cert}, {"owner-session", session}}));
    auto start = args_of<uapi::LaunchStart>(fake.sev_calls()[1]);
    EXPECT_NE(start.dh_uaddr, 0u);
    EXPECT_EQ(start.dh_len, 2084u);
    EXPECT_NE(start.session_uaddr, 0u);
    EXPECT_EQ(start.session_len, 128u);

    EXPECT_THROW(plan_for("amd-sev", 1, {{"owner-session", session}}), Error);
    auto short_session = write_temp("short-session.bin", 100, 0x44);
    try {
        plan_for("amd-sev-es", 1, {{"owner-dh-cert", cert}, {"owner-session", short_session}});
        ADD_FAILURE() << "a 100-byte session blob was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(short_session), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("128 bytes"), std::string::npos) << e.what();
    }
    EXPECT_THROW(plan_for("amd-sev-snp", 1, {{"owner-dh-cert", cert}, {"owner-session", session}}), Error);
}

TEST(SevLaunchSeam, EveryFailureLeavesNoFdOpen) {
    for (const std::string tech : {"amd-sev", "amd-sev-es", "amd-sev-snp"}) {
        auto plan = plan_for(tech, 2);
        std::size_t total = 0;
        {
            FakeSev fake;
            cvmtest::RecordingSeam counter(fake);
            cvmtest::launch_through(counter, plan);
            total = counter.count();
        }
        ASSERT_GT(total, 20u);
        std::size_t before = cvmtest::open_fd_count();
        for (std::size_t i = 0; i < total; ++i) {
            FakeSev fake;
            cvmtest::RecordingSeam seam(fake);
            seam.fail_call(i, EIO);
            try {
                cvmtest::launch_through(seam, plan);
            } catch (const Error&) {
            }
            EXPECT_EQ(cvmtest::open_fd_count(), before) << tech << ": failing call " << i;
        }
    }
}

} // namespace
