// The SEV, SEV-ES (legacy init and INIT2) and SNP launches at the ioctl
// seam, against a model of the host kernel (sev_kernel_model.hpp): every
// launch runs to its guest's first exits, with the exact call sequences, the
// command arguments, the bytes given to the firmware (which must be what the
// predictor hashed), a memory-fault conversion in the middle of an SNP run,
// one test per audit item of issue 11, and no fd left behind when any call
// fails. Expected values are written out here, never computed by the
// launcher's own code.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <linux/psp-sev.h>
#include <sstream>

#include <fmt/format.h>

#include "backends/amd-sev/launch_config.hpp"
#include "backends/amd-sev/sev_uapi.hpp"
#include "cvm/backend.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/snp_id_block.hpp"
#include "seam_launch.hpp"
#include "seam_recorder.hpp"
#include "sev_kernel_model.hpp"
#include "test_paths.hpp"

using namespace cvm;
namespace uapi = cvm::sev::uapi;
using cvmtest::sev::GuestStep;
using cvmtest::sev::SevKernelModel;

namespace {

constexpr std::uint64_t kRam = 64ull << 20;

LaunchPlan plan_for(const std::string& tech, unsigned vcpus, std::map<std::string, std::string> options = {}) {
    VmSpec spec;
    spec.technology = tech;
    spec.memory.size = kRam;
    spec.vcpus.count = vcpus;
    spec.images.push_back({ImageRole::firmware, Payload::map_file(cvmtest::vector_path("sev/synthetic_fw.bin")), true, {}});
    spec.images.push_back({ImageRole::kernel, Payload::map_file(cvmtest::vector_path("sev/kernel.bin")), true, {}});
    spec.options = std::move(options);
    return find_backend(tech).build_plan(spec);
}

template <class T> T args_of(const SevKernelModel::SevCall& call) {
    T value{};
    EXPECT_EQ(call.args.size(), sizeof(T));
    std::memcpy(&value, call.args.data(), std::min(call.args.size(), sizeof(T)));
    return value;
}

cvmtest::FakeKvm::Exit system_event(std::uint32_t type) {
    return [type](kvm_run& run) {
        run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
        run.system_event.type = type;
    };
}

// The guest's first exits: a byte on the serial port, then power-off.
std::deque<GuestStep> hello_and_off(char c = 'X') {
    return {GuestStep::of(cvmtest::FakeKvm::port_write(0x3f8, static_cast<std::uint8_t>(c), 1)),
            GuestStep::of(system_event(KVM_SYSTEM_EVENT_SHUTDOWN))};
}

struct Launch {
    RunResult result;
    std::string console;
};

Launch launch(SevKernelModel& model, const LaunchPlan& plan) {
    cvmtest::ConsoleCapture console;
    auto result = cvmtest::launch_through(model, plan, console.fd);
    return {result, console.text()};
}

const std::vector<std::string> kPlatform{
    "open /dev/kvm", "kvm KVM_GET_API_VERSION", "kvm KVM_GET_VCPU_MMAP_SIZE",
    "open /dev/sev", "sev SEV_ISSUE_CMD 1",
};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<std::string> vcpu_registers(unsigned id) {
    std::string v = "vcpu" + std::to_string(id);
    return {v + " KVM_GET_SREGS", v + " KVM_GET_FPU", v + " KVM_SET_SREGS", v + " KVM_SET_REGS", v + " KVM_SET_FPU",
            v + " KVM_SET_XCRS", v + " KVM_SET_MSRS", v + " KVM_SET_DEBUGREGS"};
}

const kvm_cpuid_entry2* find_leaf(const std::vector<kvm_cpuid_entry2>& cpuid, std::uint32_t function, std::uint32_t index = 0) {
    for (const auto& e : cpuid)
        if (e.function == function && e.index == index) return &e;
    return nullptr;
}

// Audit item 1 (old behaviour: the -EIO of the LAUNCH_MEASURE length query
// ended every SEV launch) and item 3 (old behaviour: plain SEV vCPUs had no
// KVM_SET_CPUID2, the model's guest found no SEV in CPUID 0x8000001f and
// triple-faulted before its first exit).
TEST(SevLaunchSeam, SevLegacyRunsToTheGuestsFirstExits) {
    SevKernelModel model;
    model.script(hello_and_off());
    auto plan = plan_for("amd-sev", 1, {{"sev-init", "legacy"}});
    auto [result, console] = launch(model, plan);
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_EQ(console, "X");
    std::string blob;
    for (int i = 0; i < 48; ++i) blob += "ab";
    EXPECT_NE(result.detail.find("LAUNCH_MEASURE " + blob), std::string::npos) << result.detail;

    auto expected = concat(kPlatform, {
        "kvm KVM_CREATE_VM(0)", "vm KVM_CREATE_IRQCHIP", "vm KVM_SEV_INIT",
        "vm KVM_SET_USER_MEMORY_REGION", "vm KVM_MEMORY_ENCRYPT_REG_REGION",
        "vm KVM_SET_USER_MEMORY_REGION", "vm KVM_MEMORY_ENCRYPT_REG_REGION",
        "kvm KVM_GET_SUPPORTED_CPUID",
        "vm KVM_SEV_LAUNCH_START", "vm KVM_SEV_LAUNCH_UPDATE_DATA", "vm KVM_SEV_LAUNCH_UPDATE_DATA",
        "vm KVM_CREATE_VCPU", "mmap vcpu0", "vcpu0 KVM_SET_CPUID2",
        "vm KVM_SEV_LAUNCH_MEASURE", "vm KVM_SEV_LAUNCH_MEASURE", "vm KVM_SEV_LAUNCH_FINISH",
    });
    EXPECT_EQ(model.log(), expected);

    auto calls = model.sev_calls();
    ASSERT_EQ(calls.size(), 7u);
    EXPECT_TRUE(calls[0].args.empty());  // KVM_SEV_INIT takes no data
    auto start = args_of<uapi::LaunchStart>(calls[1]);
    EXPECT_EQ(start.policy, 0x1u);
    EXPECT_EQ(start.handle, 0u);
    EXPECT_EQ(start.dh_uaddr, 0u);
    EXPECT_EQ(start.session_uaddr, 0u);
    EXPECT_EQ(args_of<uapi::LaunchUpdateData>(calls[2]).len, 8192u);
    EXPECT_EQ(args_of<uapi::LaunchUpdateData>(calls[3]).len, 176u);
    EXPECT_EQ(args_of<uapi::LaunchMeasure>(calls[4]).len, 0u);  // the length query...
    EXPECT_EQ(calls[4].result, -EIO);                           // ...answered as the kernel answers it
    EXPECT_EQ(calls[4].fw_error, std::uint32_t{SEV_RET_INVALID_LEN});
    EXPECT_EQ(args_of<uapi::LaunchMeasure>(calls[5]).len, 48u);
    EXPECT_EQ(model.seen().guest_state, "running");

    const auto seen = model.seen();
    ASSERT_EQ(seen.cpuid.count(0), 1u) << "vCPU 0 got no KVM_SET_CPUID2";
    const auto* sev_leaf = find_leaf(seen.cpuid.at(0), 0x8000001f);
    ASSERT_NE(sev_leaf, nullptr);
    EXPECT_EQ(sev_leaf->eax, 0x1bu);  // the host's SEV, SEV-ES, SNP bits, unmasked for SEV

    // The firmware was given exactly the bytes whose SHA-256 is the golden
    // digest of FW_SYN + K_SYN (golden.tsv).
    Hasher sha(HashAlgorithm::sha256);
    sha.update(calls[2].data).update(calls[3].data);
    EXPECT_EQ(sha.finish().hex(), "ea8a11c415505fee07b912f5ca910d437737730c13dfbe4245f4ab90da99221e");
}

TEST(SevLaunchSeam, SevEsInit2SequenceAndRegisters) {
    SevKernelModel model;
    model.script(hello_and_off());
    auto plan = plan_for("amd-sev-es", 2);
    auto [result, console] = launch(model, plan);
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_EQ(console, "X");
    auto expected = concat(kPlatform, {
        "kvm KVM_CHECK_EXTENSION",  // KVM_CAP_VM_TYPES
        "kvm KVM_CREATE_VM(3)", "vm KVM_CREATE_IRQCHIP", "vm KVM_SEV_INIT2",
        "vm KVM_SET_USER_MEMORY_REGION", "vm KVM_MEMORY_ENCRYPT_REG_REGION",
        "vm KVM_SET_USER_MEMORY_REGION", "vm KVM_MEMORY_ENCRYPT_REG_REGION",
        "kvm KVM_GET_SUPPORTED_CPUID",
        "vm KVM_SEV_LAUNCH_START", "vm KVM_SEV_LAUNCH_UPDATE_DATA", "vm KVM_SEV_LAUNCH_UPDATE_DATA",
        "vm KVM_CREATE_VCPU", "mmap vcpu0", "vcpu0 KVM_SET_CPUID2",
        "vm KVM_CREATE_VCPU", "mmap vcpu1", "vcpu1 KVM_SET_CPUID2",
    });
    expected = concat(expected, vcpu_registers(0));
    expected = concat(expected, vcpu_registers(1));
    expected = concat(expected, {"vm KVM_SEV_LAUNCH_UPDATE_VMSA", "vm KVM_SEV_LAUNCH_MEASURE",
                                 "vm KVM_SEV_LAUNCH_MEASURE", "vm KVM_SEV_LAUNCH_FINISH"});
    EXPECT_EQ(model.log(), expected);
    EXPECT_EQ(model.seen().vmsas, 2u);
    // The only refusal is the length query's, as on a real host.
    EXPECT_EQ(model.seen().refused, std::vector<std::string>{"KVM_SEV_LAUNCH_MEASURE: firmware 0x4"});

    auto calls = model.sev_calls();
    ASSERT_GE(calls.size(), 2u);
    EXPECT_EQ(calls[0].args, std::vector<std::uint8_t>(48, 0));  // kvm_sev_init all zero
    EXPECT_EQ(args_of<uapi::LaunchStart>(calls[1]).policy, 0x5u);

    // The reset state: BSP at 0xffff0000:0xfff0, AP at the firmware's reset block.
    auto state = model.vcpu_state();
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
    SevKernelModel model;
    model.script(hello_and_off());
    auto [result, console] = launch(model, plan_for("amd-sev-es", 1, {{"sev-init", "legacy"}}));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    auto log = model.log();
    EXPECT_EQ(log[5], "kvm KVM_CREATE_VM(0)");
    EXPECT_EQ(log[7], "vm KVM_SEV_ES_INIT");
    EXPECT_TRUE(model.sev_calls()[0].args.empty());
    EXPECT_EQ(model.seen().vmsas, 1u);
}

struct Region { std::uint64_t gpa, size; std::uint8_t type; };
// The firmware (2 pages), then the metadata sections of FW_SYN in table order.
const std::vector<Region> kSnpRegions{
    {0xffffe000, 0x2000, uapi::kSnpPageNormal}, {0x800000, 0x9000, uapi::kSnpPageZero},
    {0x80a000, 0x3000, uapi::kSnpPageZero},     {0x80d000, 0x1000, uapi::kSnpPageSecrets},
    {0x80e000, 0x1000, uapi::kSnpPageCpuid},    {0x810000, 0x1000, uapi::kSnpPageNormal},
    {0x811000, 0xf000, uapi::kSnpPageZero},
};

std::uint32_t page_u32(const std::vector<std::uint8_t>& page, std::size_t at) {
    std::uint32_t v = 0;
    std::memcpy(&v, page.data() + at, 4);
    return v;
}

// Audit items 6 (old behaviour: the raw KVM CPUID with TSC deadline,
// TSC_ADJUST, the speculation-control and VIRT_SSBD bits went into the CPUID
// page, which the model's firmware refuses as the SNP firmware does; and the
// all-zero leaf took a slot) and 8 (old behaviour: only the loaded ranges
// were made private, the rest of RAM stayed shared).
TEST(SevLaunchSeam, SnpSequenceCpuidPageAndPrivateRam) {
    SevKernelModel model;
    model.script(hello_and_off());
    auto [result, console] = launch(model, plan_for("amd-sev-snp", 1));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_EQ(console, "X");
    auto expected = concat(kPlatform, {
        "kvm KVM_CHECK_EXTENSION",  // KVM_CAP_VM_TYPES
        "kvm KVM_CREATE_VM(4)", "vm KVM_CREATE_IRQCHIP", "vm KVM_SEV_INIT2",
        "vm KVM_CHECK_EXTENSION", "vm KVM_ENABLE_CAP",  // KVM_CAP_EXIT_HYPERCALL
        "vm KVM_CHECK_EXTENSION", "vm KVM_CHECK_EXTENSION", "vm KVM_CHECK_EXTENSION",  // guest_memfd, memory2, attributes
    });
    for (int slot = 0; slot < 2; ++slot)
        expected = concat(expected, {"vm KVM_CREATE_GUEST_MEMFD", "vm KVM_SET_USER_MEMORY_REGION2", "vm KVM_SET_MEMORY_ATTRIBUTES"});
    expected = concat(expected, {"kvm KVM_GET_SUPPORTED_CPUID", "vm KVM_SEV_SNP_LAUNCH_START"});
    for (std::size_t i = 0; i < kSnpRegions.size(); ++i) expected.push_back("vm KVM_SEV_SNP_LAUNCH_UPDATE");
    expected = concat(expected, {"vm KVM_CREATE_VCPU", "mmap vcpu0", "vcpu0 KVM_SET_CPUID2"});
    expected = concat(expected, vcpu_registers(0));
    expected.push_back("vm KVM_SEV_SNP_LAUNCH_FINISH");
    EXPECT_EQ(model.log(), expected);

    const auto seen = model.seen();
    EXPECT_EQ(seen.refused, std::vector<std::string>{});
    EXPECT_EQ(seen.vmsa_features, 0x1u);
    EXPECT_EQ(seen.policy, 0x30000u);
    EXPECT_EQ(seen.exit_hypercall_enabled, 1u << 12);
    EXPECT_EQ(seen.vmsas, 1u);
    // All RAM private from slot creation on (the plan's 64 MiB at 0 and the
    // firmware below 4 GiB), as QEMU makes guest_memfd RAM.
    EXPECT_EQ(model.private_attribute(0, kRam), std::optional<bool>(true));
    EXPECT_EQ(model.private_attribute(0xffffe000, 0x2000), std::optional<bool>(true));

    auto calls = model.sev_calls();
    EXPECT_EQ(args_of<uapi::Init>(calls[0]).vmsa_features, 0u);  // SNPActive is KVM's to set
    std::size_t i = 2;
    for (const auto& r : kSnpRegions) {
        auto update = args_of<uapi::SnpLaunchUpdate>(calls[i]);
        EXPECT_EQ(update.gfn_start, r.gpa >> 12);
        EXPECT_EQ(update.len, r.size);
        EXPECT_EQ(update.type, r.type);
        EXPECT_EQ(calls[i].result, 0);
        if (r.type == uapi::kSnpPageCpuid) {
            const auto& page = calls[i].data;
            ASSERT_EQ(page.size(), 4096u);
            ASSERT_EQ(page_u32(page, 0), 11u) << "12 host leaves, the all-zero leaf 6 left out";
            // Entry 1 is leaf 1: ECX without TSC deadline (bit 24).
            EXPECT_EQ(page_u32(page, 16 + 48 + 0), 1u);
            EXPECT_EQ(page_u32(page, 16 + 48 + 32), 0xfef83203u);
            // Entry 2 is leaf 7.0: EBX without TSC_ADJUST, EDX without bits 26-31.
            EXPECT_EQ(page_u32(page, 16 + 96 + 0), 7u);
            EXPECT_EQ(page_u32(page, 16 + 96 + 28), 0x219c97a9u);
            EXPECT_EQ(page_u32(page, 16 + 96 + 36), 0x10u);
            // Entry 3 is leaf 0xD.0: x87-only XSAVE size, XCR0 in = 1.
            EXPECT_EQ(page_u32(page, 16 + 144 + 0), 0xdu);
            EXPECT_EQ(page_u32(page, 16 + 144 + 8), 1u);
            EXPECT_EQ(page_u32(page, 16 + 144 + 28), 0x240u);
        }
        ++i;
    }
    EXPECT_EQ(calls.back().id, uapi::kSnpLaunchFinish);
    EXPECT_EQ(args_of<uapi::SnpLaunchFinish>(calls.back()).id_block_en, 0u);
    // The vCPU got the same masked CPUID.
    const auto* leaf7 = find_leaf(seen.cpuid.at(0), 7);
    ASSERT_NE(leaf7, nullptr);
    EXPECT_EQ(leaf7->edx, 0x10u);
}

// A memory fault in the middle of an SNP run: KVM_RUN returns -EFAULT with
// KVM_EXIT_MEMORY_FAULT for [1 MiB, +8 KiB) wanting shared; the model's next
// KVM_RUN goes on only if exactly that range was converted. Then a
// KVM_HC_MAP_GPA_RANGE page-state change (the guest's explicit conversion).
TEST(SevLaunchSeam, SnpMemoryFaultAndPageStateChangeMidRun) {
    SevKernelModel model;
    cvmtest::FakeKvm::Exit map_gpa_range = [](kvm_run& run) {
        run.exit_reason = KVM_EXIT_HYPERCALL;
        run.hypercall.nr = 12;  // KVM_HC_MAP_GPA_RANGE (include/uapi/linux/kvm_para.h)
        run.hypercall.args[0] = 0x200000;
        run.hypercall.args[1] = 2;  // 4 KiB pages
        run.hypercall.args[2] = 0;  // decrypted, 4 KiB page size
        run.hypercall.ret = 0x77;
    };
    model.script({GuestStep::of(cvmtest::FakeKvm::port_write(0x3f8, 'A', 1)),
                  GuestStep::memory_fault(0x100000, 0x2000, false),
                  GuestStep::of(cvmtest::FakeKvm::port_write(0x3f8, 'B', 1)),
                  GuestStep::of(map_gpa_range),
                  GuestStep::of(system_event(KVM_SYSTEM_EVENT_SHUTDOWN))});
    auto [result, console] = launch(model, plan_for("amd-sev-snp", 1));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_EQ(console, "AB");
    const auto seen = model.seen();
    EXPECT_EQ(seen.faults_reported, 1u);
    EXPECT_EQ(seen.refaults, 0u);
    EXPECT_EQ(seen.steps_run, 5u);
    EXPECT_EQ(model.private_attribute(0x100000, 0x2000), std::optional<bool>(false));
    EXPECT_EQ(model.private_attribute(0xff000, 0x1000), std::optional<bool>(true));
    EXPECT_EQ(model.private_attribute(0x102000, 0x1000), std::optional<bool>(true));
    EXPECT_EQ(model.private_attribute(0x200000, 0x2000), std::optional<bool>(false));
    EXPECT_EQ(model.private_attribute(0x202000, 0x1000), std::optional<bool>(true));
}

// Audit item 6: when the firmware corrects the CPUID page (here a bit the
// launcher does not know to mask), the kernel copies the corrected page back
// and the launcher says which leaf changed. Old behaviour: only "SNP_LAUNCH_UPDATE
// failed (status 0x16)".
TEST(SevLaunchSeam, SnpCpuidPageCorrectionIsReported) {
    SevKernelModel model;
    model.firmware_forbidden.push_back({0x80000021, 0, 0, 1u << 6});
    try {
        launch(model, plan_for("amd-sev-snp", 1));
        ADD_FAILURE() << "a CPUID page the firmware refused was accepted";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("leaf 0x80000021 subleaf 0x0: eax 0x00062fcf -> 0x00062f8f"), std::string::npos) << what;
    }
}

std::vector<kvm_cpuid_entry2> many_leaves(unsigned nonzero, unsigned zero) {
    auto cpuid = cvmtest::sev::default_host_cpuid();  // 11 non-zero, 1 zero
    for (unsigned i = 0; cpuid.size() < 12 + nonzero + zero; ++i) {
        kvm_cpuid_entry2 e{};
        e.function = 0x40000100 + i;
        e.eax = i < nonzero ? 1 : 0;
        cpuid.push_back(e);
    }
    return cpuid;
}

// Audit item 6, the 64-entry limit of the SNP firmware ABI's CPUID table
// (Linux: SNP_CPUID_COUNT_MAX; QEMU: SNP_CPUID_FUNCTION_MAXCOUNT). Old
// behaviour: more than 64 KVM entries were refused even when all-zero
// leaves, which the table may leave out, brought them under 64; the limit
// itself stays, with an error that names it.
TEST(SevLaunchSeam, SnpCpuidTableLimit) {
    {
        SevKernelModel model;
        model.script(hello_and_off());
        model.supported_cpuid = many_leaves(50, 10);  // 72 entries, 61 non-zero
        auto [result, console] = launch(model, plan_for("amd-sev-snp", 1));
        EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    }
    SevKernelModel model;
    model.supported_cpuid = many_leaves(54, 0);  // 66 entries, 65 non-zero
    try {
        launch(model, plan_for("amd-sev-snp", 1));
        ADD_FAILURE() << "65 CPUID leaves were accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("65 CPUID leaves"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("at most 64"), std::string::npos) << e.what();
    }
}

// A plan whose SNP policy lacks bit 17: refused before any KVM call. Old
// behaviour: the plan's config was accepted and KVM refused
// SNP_LAUNCH_START with a bare EINVAL (sev.c snp_launch_start).
TEST(SevLaunchSeam, SnpPolicyBit17) {
    auto good = plan_for("amd-sev-snp", 1);
    LaunchPlan bad(good.technology(), good.algorithm());
    for (auto op : good.operations()) {
        if (auto* vm = std::get_if<op::CreateVm>(&op)) {
            auto config = std::make_shared<sev::LaunchConfig>(config_as<sev::LaunchConfig>(*vm, "test"));
            config->policy = 0x10000;
            vm->config = std::move(config);
        }
        bad.add(op);
    }
    SevKernelModel model;
    try {
        launch(model, bad);
        ADD_FAILURE() << "policy 0x10000 was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("bit 17"), std::string::npos) << e.what();
    }
    EXPECT_EQ(model.log(), std::vector<std::string>{});
}

bool logged(const SevKernelModel& model, const std::string& line) {
    auto log = model.log();
    return std::find(log.begin(), log.end(), line) != log.end();
}

std::string message_of(SevKernelModel& model, const LaunchPlan& plan) {
    try {
        launch(model, plan);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Capability checks before use. Old behaviour: none; KVM_CREATE_VM,
// KVM_ENABLE_CAP and KVM_SEV_INIT2 failed with a bare EINVAL.
TEST(SevLaunchSeam, CapabilitiesCheckedBeforeUse) {
    {
        SevKernelModel model;
        model.vm_types = 1 | (1u << 2) | (1u << 3);  // no SNP VMs
        auto what = message_of(model, plan_for("amd-sev-snp", 1));
        EXPECT_NE(what.find("KVM_CAP_VM_TYPES"), std::string::npos) << what;
        EXPECT_FALSE(logged(model, "kvm KVM_CREATE_VM(4)"));
    }
    {
        SevKernelModel model;
        model.exit_hypercall_mask = 0;
        auto what = message_of(model, plan_for("amd-sev-snp", 1));
        EXPECT_NE(what.find("KVM_CAP_EXIT_HYPERCALL"), std::string::npos) << what;
        EXPECT_FALSE(logged(model, "vm KVM_ENABLE_CAP"));
    }
    {
        SevKernelModel model;
        model.vmsa_features = 0;  // no DebugSwap on this host
        auto what = message_of(model, plan_for("amd-sev-snp", 1, {{"guest-features", "0x21"}}));
        EXPECT_NE(what.find("missing 0x20"), std::string::npos) << what;
        EXPECT_FALSE(logged(model, "kvm KVM_CREATE_VM(4)"));
    }
    {
        SevKernelModel model;
        model.vmsa_features.reset();  // a kernel without the attribute
        auto what = message_of(model, plan_for("amd-sev-snp", 1, {{"guest-features", "0x21"}}));
        EXPECT_NE(what.find("ENXIO"), std::string::npos) << what;
    }
    SevKernelModel model;
    model.script(hello_and_off());
    auto [result, console] = launch(model, plan_for("amd-sev-snp", 1, {{"guest-features", "0x21"}}));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_EQ(model.seen().vmsa_features, 0x21u);
    EXPECT_TRUE(logged(model, "kvm KVM_GET_DEVICE_ATTR"));
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
    SevKernelModel model;
    cvmtest::launch_through(model, plan_for("amd-sev", 1, {{"owner-dh-cert", cert}, {"owner-session", session}}));
    auto start = args_of<uapi::LaunchStart>(model.sev_calls()[1]);
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

// The plan holds the owner's bytes, not file names: the same contents read
// from two places make the same plan, and changing a file after planning
// does not change what LAUNCH_START is given. Before, the files were plan
// parameters by path, reopened at launch.
TEST(SevLaunchSeam, GuestOwnerFilesArePlannedByContent) {
    auto cert = write_temp("owner-a.cert", 2084, 0x33);
    auto session = write_temp("owner-a.session", 128, 0x44);
    auto cert2 = write_temp("owner-b.cert", 2084, 0x33);
    auto session2 = write_temp("owner-b.session", 128, 0x44);
    auto a = plan_for("amd-sev-es", 1, {{"owner-dh-cert", cert}, {"owner-session", session}});
    auto b = plan_for("amd-sev-es", 1, {{"owner-dh-cert", cert2}, {"owner-session", session2}});
    EXPECT_EQ(a.to_json(), b.to_json());
    EXPECT_EQ(a.to_json().find(cert), std::string::npos) << "a file name is in the plan";

    write_temp("owner-a.session", 128, 0x55);  // changed after planning
    SevKernelModel model;
    cvmtest::launch_through(model, a);
    auto start = args_of<uapi::LaunchStart>(model.sev_calls()[1]);
    ASSERT_EQ(start.session_len, 128u);
    EXPECT_EQ(model.seen().launch_start_session, std::vector<std::uint8_t>(128, 0x44));
}

TEST(SevLaunchSeam, EveryFailureLeavesNoFdOpen) {
    for (const std::string tech : {"amd-sev", "amd-sev-es", "amd-sev-snp"}) {
        auto plan = plan_for(tech, 2);
        std::size_t total = 0;
        {
            SevKernelModel model;
            model.script(hello_and_off());
            cvmtest::RecordingSeam counter(model);
            cvmtest::launch_through(counter, plan);
            total = counter.count();
        }
        ASSERT_GT(total, 20u);
        std::size_t before = cvmtest::open_fd_count();
        for (std::size_t i = 0; i < total; ++i) {
            SevKernelModel model;
            model.script(hello_and_off());
            cvmtest::RecordingSeam seam(model);
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

// HOST_DATA reaches SNP_LAUNCH_FINISH as the plan carries it (sev.c
// snp_launch_finish copies the 32 bytes into the firmware's command); it
// is not measured, so the launch digest is the same with or without it.
TEST(SevLaunchSeam, SnpHostDataReachesLaunchFinish) {
    std::string hex;
    for (int i = 0; i < 32; ++i) hex += fmt::format("{:02x}", 0xa0 + i);
    SevKernelModel model;
    model.script(hello_and_off());
    auto plan = plan_for("amd-sev-snp", 1, {{"host-data", hex}});
    auto [result, console] = launch(model, plan);
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    auto calls = model.sev_calls();
    ASSERT_EQ(calls.back().id, uapi::kSnpLaunchFinish);
    const auto finish = args_of<uapi::SnpLaunchFinish>(calls.back());
    for (int i = 0; i < 32; ++i) EXPECT_EQ(finish.host_data[i], 0xa0 + i) << i;
    const auto& snp = find_backend("amd-sev-snp");
    EXPECT_EQ(snp.predict(plan).value.hex(), snp.predict(plan_for("amd-sev-snp", 1)).value.hex());
    // Only 32 bytes, and only for SNP.
    EXPECT_THROW(plan_for("amd-sev-snp", 1, {{"host-data", "00"}}), Error);
    EXPECT_THROW(plan_for("amd-sev-es", 1, {{"host-data", hex}}), Error);
}

namespace {

// sev-snp-measure's digest for this file's SNP plan (FW_SYN + K_SYN, 1 vCPU,
// EPYC-v4, golden.tsv): the LD an ID block for it must carry, and what the
// model's firmware computed.
const char* kGoldenSnpKsyn =
    "e235cdef758aab9c7be82b76219e810208ca4ffb1f551a6d5a560a025eac4f6181e447a3767645c50091dfaacf81408d";
// sev-snp-measure's published digests of its test keys (tests/vectors/sev/idblock/PROVENANCE.md).
const char* kIdKeyDigest =
    "870b7e35c53f8a72d0d322f75ab2af8262792aaf6579622ce4131c3f21f289e77cb0560a5e3b90b3932e674ec709cb14";
const char* kAuthorKeyDigest =
    "63111c34bbfc0a4938f9a009bd074980d8172323e61599c9fd336da8673248e1dca98d0be8f76376a106b8afd4c0a057";

std::string pem_of(const std::string& relative) {
    std::ifstream in(cvmtest::vector_path(relative));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

template <std::size_t N> std::string write_bytes(const std::string& name, const std::array<std::uint8_t, N>& bytes) {
    std::string path = ::testing::TempDir() + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return path;
}

struct IdFiles {
    std::string block, auth;
    std::array<std::uint8_t, sev::kSnpIdBlockSize> block_bytes;
    std::array<std::uint8_t, sev::kSnpIdAuthSize> auth_bytes;
};

IdFiles id_files(const std::string& tag, const char* ld_hex, std::uint64_t policy, bool author) {
    sev::SnpIdBlock block;
    auto ld = from_hex(ld_hex, "ld");
    std::copy(ld.begin(), ld.end(), block.launch_digest.begin());
    block.policy = policy;
    block.guest_svn = 7;
    auto s = sev::sign_snp_id_block(block, pem_of("sev/idblock/id_key_test.pem"),
                                    author ? std::optional(pem_of("sev/idblock/author_key_test.pem")) : std::nullopt);
    return {write_bytes(tag + "-id-block.bin", s.id_block), write_bytes(tag + "-id-auth.bin", s.id_auth), s.id_block,
            s.id_auth};
}

} // namespace

// The ID block and ID auth reach SNP_LAUNCH_FINISH (sev.c snp_launch_finish:
// id_block_en, both addresses, auth_key_en), the model's firmware checks
// both signatures, the LD against the digest sev-snp-measure computed and
// the policy, and takes the key digests the reports will carry: the values
// sev-snp-measure published for these keys.
TEST(SevLaunchSeam, SnpIdBlockReachesLaunchFinish) {
    for (bool author : {true, false}) {
        SCOPED_TRACE(author ? "with author key" : "ID key only");
        auto files = id_files(author ? "author" : "alone", kGoldenSnpKsyn, 0x30000, author);
        SevKernelModel model;
        auto golden = from_hex(kGoldenSnpKsyn, "golden");
        model.launch_digest.emplace();
        std::copy(golden.begin(), golden.end(), model.launch_digest->begin());
        model.script(hello_and_off());
        auto [result, console] = launch(model, plan_for("amd-sev-snp", 1, {{"id-block", files.block}, {"id-auth", files.auth}}));
        EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
        const auto calls = model.sev_calls();
        ASSERT_EQ(calls.back().id, uapi::kSnpLaunchFinish);
        const auto finish = args_of<uapi::SnpLaunchFinish>(calls.back());
        EXPECT_EQ(finish.id_block_en, 1);
        EXPECT_EQ(finish.auth_key_en, author ? 1 : 0);
        EXPECT_NE(finish.id_block_uaddr, 0u);
        EXPECT_NE(finish.id_auth_uaddr, 0u);
        const auto seen = model.seen();
        EXPECT_TRUE(seen.refused.empty()) << seen.refused.front();
        EXPECT_EQ(seen.id_block, std::vector<std::uint8_t>(files.block_bytes.begin(), files.block_bytes.end()));
        EXPECT_EQ(seen.id_auth, std::vector<std::uint8_t>(files.auth_bytes.begin(), files.auth_bytes.end()));
        EXPECT_EQ(to_hex(seen.id_key_digest), kIdKeyDigest);
        EXPECT_EQ(to_hex(seen.author_key_digest), author ? kAuthorKeyDigest : std::string(96, '0'));
    }
    // Without the options nothing is enabled and no address is passed.
    SevKernelModel model;
    model.script(hello_and_off());
    launch(model, plan_for("amd-sev-snp", 1));
    const auto finish = args_of<uapi::SnpLaunchFinish>(model.sev_calls().back());
    EXPECT_EQ(finish.id_block_en, 0);
    EXPECT_EQ(finish.auth_key_en, 0);
    EXPECT_EQ(finish.id_block_uaddr, 0u);
    EXPECT_EQ(finish.id_auth_uaddr, 0u);
}

// What the firmware would refuse is refused when the plan is made, naming
// the cause; and when the firmware refuses anyway (here: the model's
// firmware computed another digest), the launch fails with its status.
TEST(SevLaunchSeam, SnpIdBlockRefusals) {
    auto good = id_files("good", kGoldenSnpKsyn, 0x30000, true);
    auto expect_plan_error = [](const std::map<std::string, std::string>& options, const std::string& tech,
                                const std::string& needle) {
        try {
            plan_for(tech, 1, options);
            ADD_FAILURE() << "planned; expected an error containing " << needle;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    const char* other_ld =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f";
    auto wrong_ld = id_files("wrong-ld", other_ld, 0x30000, true);
    expect_plan_error({{"id-block", wrong_ld.block}, {"id-auth", wrong_ld.auth}}, "amd-sev-snp", "BAD_MEASUREMENT");
    auto wrong_policy = id_files("wrong-policy", kGoldenSnpKsyn, 0x70000, true);
    expect_plan_error({{"id-block", wrong_policy.block}, {"id-auth", wrong_policy.auth}}, "amd-sev-snp", "0x70000");
    expect_plan_error({{"id-block", good.block}}, "amd-sev-snp", "go together");
    expect_plan_error({{"id-block", good.block}, {"id-auth", wrong_ld.auth}}, "amd-sev-snp", "ID_BLOCK_SIG");
    expect_plan_error({{"id-block", good.block}, {"id-auth", good.auth}}, "amd-sev-es", "has no option");

    SevKernelModel model;
    model.launch_digest.emplace();
    model.launch_digest->fill(0x11);
    model.script(hello_and_off());
    auto what = message_of(model, plan_for("amd-sev-snp", 1, {{"id-block", good.block}, {"id-auth", good.auth}}));
    EXPECT_NE(what.find("KVM_SEV_SNP_LAUNCH_FINISH"), std::string::npos) << what;
    EXPECT_NE(what.find(fmt::format("{:#x}", static_cast<unsigned>(SEV_RET_BAD_MEASUREMENT))), std::string::npos) << what;
}
