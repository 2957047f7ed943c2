// The realm launcher at the ioctl seam, against a model of the CCA host
// KVM (rme_kernel_model.hpp: each ioctl as the series' kernel function
// answers it). Every host ABI's launch runs to the guest's first exit, the
// RMM-visible result (populated granules, REC registers, DFR0 at RD
// creation) is compared with the plan, a RIPAS change is converted in the
// middle of a launch, and each defect the audit of issue 11 found has a
// test that the launcher before the fix fails (named in each test).
// Expected values come from the plan's operations and the series' numbers,
// never from the launcher.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <linux/kvm.h>

#include <fmt/format.h>

#include "backends/arm-cca/realm_launcher.hpp"
#include "backends/arm-cca/realm_plan.hpp"
#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "rme_kernel_model.hpp"
#include "seam_launch.hpp"
#include "seam_recorder.hpp"
#include "synthetic_images.hpp"
#include "test_paths.hpp"

using namespace cvm;
using cvmtest::RecordingSeam;
using cvmtest::cca::Host;
using cvmtest::cca::RealmState;
using cvmtest::cca::RmeKernelModel;

namespace {

constexpr unsigned long kEnableCap = 0x4068aea3;
constexpr unsigned long kVcpuFinalize = 0x4004aec2;
constexpr unsigned long kCreateGuestMemfd = 0xc040aed4;
constexpr unsigned long kSetMemoryRegion = 0x4020ae46;
constexpr unsigned long kSetMemoryRegion2 = 0x40a0ae49;
constexpr unsigned long kSetMemoryAttributes = 0x4020aed2;
constexpr unsigned long kRmiPopulateV13 = 0xc020aed7;
constexpr std::uint64_t kRamBase = 0x80000000;

bool is_rme(Host h) { return h == Host::rme_v6 || h == Host::rme_v7; }

VmSpec spec_for(Host host, unsigned vcpus = 2) {
    VmSpec spec;
    spec.technology = "arm-cca";
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = vcpus;
    spec.options = {{"abi", cvmtest::cca::host_name(host)}, {"rmm", is_rme(host) ? "1.0" : "2.0"},
                    // The v7 kernel keeps the host's breakpoints (6 in the model).
                    {"num-bps", host == Host::rme_v7 ? "6" : "2"}, {"num-wps", "2"}};
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(cvmtest::synthetic_arm64_image(256, 0x2d10000), "Image"),
                           true, {}});
    spec.images.push_back({ImageRole::initrd, Payload::map_file(cvmtest::vector_path("cca/initrd-14B")), true, {}});
    return spec;
}

LaunchPlan plan_for(Host host, unsigned vcpus = 2) { return find_backend("arm-cca").build_plan(spec_for(host, vcpus)); }

// vCPU 0 powers the realm off at once (PSCI SYSTEM_OFF): its first exit.
void power_off_at_once(RmeKernelModel& model) {
    model.script({[](kvm_run& run) {
        run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
        run.system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
    }});
}

std::string refusals(const RmeKernelModel& model) {
    std::string out;
    for (const auto& r : model.seen().refused) out += r + "; ";
    return out;
}

// What the plan says the RMM must hold: every 4 KiB granule a load touches,
// its bytes (zero padded) and whether it is measured; and vCPU 0's registers.
void expect_realm_matches_plan(const RmeKernelModel& model, const LaunchPlan& plan) {
    const auto seen = model.seen();
    std::map<std::uint64_t, std::pair<std::vector<std::uint8_t>, bool>> want;
    std::map<std::string, std::uint64_t> regs;
    for (const auto& operation : plan.operations()) {
        if (const auto* load = std::get_if<op::LoadData>(&operation)) {
            auto bytes = load->data.bytes();
            for (std::uint64_t g = load->gpa / 4096 * 4096; g < load->gpa + bytes.size(); g += 4096) {
                auto& [content, measured] = want[g];
                content.assign(4096, 0);
                for (std::uint64_t i = 0; i < 4096; ++i)
                    if (g + i >= load->gpa && g + i < load->gpa + bytes.size()) content[i] = bytes[g + i - load->gpa];
                measured = load->measured;
            }
        }
        if (const auto* set = std::get_if<op::SetRegisters>(&operation))
            for (const auto& r : set->registers) regs[r.name] = r.value;
    }
    ASSERT_EQ(seen.data.size(), want.size());
    for (const auto& [ipa, granule] : seen.data) {
        ASSERT_TRUE(want.count(ipa)) << fmt::format("{:#x} populated but not loaded by the plan", ipa);
        EXPECT_EQ(granule.bytes, want[ipa].first) << fmt::format("{:#x}", ipa);
        EXPECT_EQ(granule.measured, want[ipa].second) << fmt::format("{:#x}", ipa);
    }
    ASSERT_TRUE(seen.rec0_made);
    for (const auto& [name, value] : regs) EXPECT_EQ(seen.rec0.at(name), value) << name;
    EXPECT_EQ(seen.state, RealmState::active);
}

class EveryHost : public ::testing::TestWithParam<Host> {};

// Every launch sequence to the guest's first exit. Fails before the fix on
// rme-v6 (POPULATE on a plain memslot: -EINVAL, populate_par_region) and
// rme-v7 (not a value the launcher knew).
TEST_P(EveryHost, LaunchRunsToTheFirstExit) {
    RmeKernelModel model(GetParam());
    power_off_at_once(model);
    auto plan = plan_for(GetParam());
    auto result = cvmtest::launch_through(model, plan);
    ASSERT_EQ(result.reason, ExitReason::power_off) << result.detail << " / " << refusals(model);
    EXPECT_TRUE(model.seen().refused.empty()) << refusals(model);
    expect_realm_matches_plan(model, plan);
    // All realm RAM private, from slot creation.
    EXPECT_EQ(model.private_attribute(kRamBase, 64ull << 20), std::optional<bool>(true));
    const auto seen = model.seen();
    EXPECT_TRUE(seen.realm_vm);
    EXPECT_EQ(seen.ipa_bits, 33u);  // 64 MiB at 2 GiB
    // RMM 1.0: RIPAS RAM over all RAM before the data.
    if (is_rme(GetParam())) {
        EXPECT_EQ(seen.init_ripas,
                  (std::vector<std::pair<std::uint64_t, std::uint64_t>>{{kRamBase, kRamBase + (64ull << 20)}}));
    }
}

// A RIPAS change (swiotlb buffers made shared) in the middle of the launch:
// v6 reports it with KVM_RUN = 0, later series with -EFAULT, both with
// KVM_EXIT_MEMORY_FAULT; the launcher must convert before re-entering.
// Before the fix the runner had no converter: the run stopped at the fault.
TEST_P(EveryHost, RipasChangeIsConvertedBeforeTheNextEntry) {
    RmeKernelModel model(GetParam());
    power_off_at_once(model);
    const std::uint64_t base = kRamBase + (32ull << 20), top = base + (4ull << 20);
    model.ripas_change_on_entry({base, top, false});
    auto result = cvmtest::launch_through(model, plan_for(GetParam()));
    ASSERT_EQ(result.reason, ExitReason::power_off) << result.detail << " / " << refusals(model);
    const auto seen = model.seen();
    EXPECT_TRUE(seen.ripas_reported);
    EXPECT_TRUE(seen.ripas_completed);
    EXPECT_EQ(seen.refaults, 0);
    EXPECT_EQ(model.private_attribute(base, top - base), std::optional<bool>(false));
    EXPECT_EQ(model.private_attribute(kRamBase, base - kRamBase), std::optional<bool>(true));
}

INSTANTIATE_TEST_SUITE_P(Abis, EveryHost,
                         ::testing::Values(Host::rme_v6, Host::rme_v7, Host::rmi_v12, Host::rmi_v13, Host::rmi_v14),
                         [](const auto& info) {
                             std::string n = cvmtest::cca::host_name(info.param);
                             n.erase(std::remove(n.begin(), n.end(), '-'), n.end());
                             return n;
                         });

// The model itself refuses the old rme-v6 path: a plain memslot, then
// POPULATE, is -EINVAL (v6 populate_par_region: kvm_slot_can_be_private);
// the same populate over a guest_memfd slot succeeds.
TEST(RealmKernelModel, RmePopulateNeedsAGuestMemfdSlot) {
    for (bool gmem : {false, true}) {
        RmeKernelModel model(Host::rme_v6);
        int kvm = model.open("/dev/kvm", 0);
        int vm = model.ioctl(kvm, KVM_CREATE_VM, reinterpret_cast<void*>((1ul << 8) | 33));
        ASSERT_GE(vm, 0);
        void* ram = mmap(nullptr, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (gmem) {
            std::uint64_t create[8] = {2 << 20};
            int fd = model.ioctl(vm, kCreateGuestMemfd, create);
            ASSERT_GE(fd, 0);
            std::uint8_t region[160] = {};
            std::uint32_t flags = 1u << 2;
            std::uint64_t gpa = kRamBase, size = 2 << 20, uaddr = reinterpret_cast<std::uint64_t>(ram);
            std::memcpy(region + 4, &flags, 4);
            std::memcpy(region + 8, &gpa, 8);
            std::memcpy(region + 16, &size, 8);
            std::memcpy(region + 24, &uaddr, 8);
            std::memcpy(region + 40, &fd, 4);
            ASSERT_EQ(model.ioctl(vm, kSetMemoryRegion2, region), 0);
        } else {
            kvm_userspace_memory_region region{0, 0, kRamBase, 2 << 20, reinterpret_cast<std::uint64_t>(ram)};
            ASSERT_EQ(model.ioctl(vm, kSetMemoryRegion, &region), 0);
        }
        auto cap = [&](std::uint64_t command, void* arg) {
            kvm_enable_cap c{};
            c.cap = 300;
            c.args[0] = command;
            c.args[1] = reinterpret_cast<std::uint64_t>(arg);
            return model.ioctl(vm, kEnableCap, &c);
        };
        std::uint64_t populate[4] = {kRamBase, 4096, 1, 0};
        EXPECT_EQ(cap(3, populate), -EINVAL) << "POPULATE before CREATE_RD";
        EXPECT_EQ(cap(1, nullptr), 0);
        std::uint8_t config[260] = {1};
        EXPECT_EQ(cap(0, config), -EBUSY) << "CONFIG_REALM after CREATE_RD";
        std::uint64_t init[4] = {kRamBase, 2 << 20, 0, 0};
        EXPECT_EQ(cap(2, init), 0);
        EXPECT_EQ(cap(3, populate), gmem ? 0 : -EINVAL);
        munmap(ram, 2 << 20);
    }
}

// Item 5: v12 has no call that sets the hash or the RPV (one capability,
// two ioctls). A plan asking for SHA-512 with abi auto reached the v12 path
// before the fix and launched with a RIM made with SHA-256.
TEST(RealmLaunchSeam, RmiV12RefusesSha512AndRpv) {
    for (auto option : {std::pair{"hash", "sha512"}, std::pair{"rpv", "0102"}}) {
        RmeKernelModel model(Host::rmi_v12);
        power_off_at_once(model);
        auto spec = spec_for(Host::rmi_v12);
        spec.options["abi"] = "auto";
        spec.options[option.first] = option.second;
        auto plan = find_backend("arm-cca").build_plan(spec);
        try {
            cvmtest::launch_through(model, plan);
            FAIL() << "launched " << option.first << " on v12";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("rmi-v12"), std::string::npos) << e.what();
        }
        EXPECT_EQ(model.seen().vms, 0);
        // Asking for v12 by name is refused when the plan is made.
        spec.options["abi"] = "rmi-v12";
        EXPECT_THROW(find_backend("arm-cca").build_plan(spec), Error);
    }
}

// Item 7: v7 is v6's ABI and is named as such (the option was refused before).
TEST(RealmLaunchSeam, RmeV7IsTheV6Abi) {
    RmeKernelModel model(Host::rme_v7);
    power_off_at_once(model);
    RecordingSeam seam(model);
    auto result = cvmtest::launch_through(seam, plan_for(Host::rme_v7));
    ASSERT_EQ(result.reason, ExitReason::power_off) << result.detail;
    for (const auto& c : seam.calls())
        if (c.request == KVM_CHECK_EXTENSION && c.fd_role == "kvm") {
            long cap = 0;
            std::memcpy(&cap, c.arg.data(), sizeof cap);
            if (cap != 165) {
                EXPECT_EQ(cap, 300);
            }
        }
}

// Host pages larger than the 4 KiB granule: every ABI populates whole host
// pages (IS_ALIGNED(..., PAGE_SIZE)), so the launcher's 4 KiB spans were
// refused by the kernel with -EINVAL after the VM was made (before the fix);
// now the launch is refused up front, naming the reason.
TEST(RealmLaunchSeam, LargerHostPagesAreRefusedUpFront) {
    for (Host host : {Host::rme_v6, Host::rmi_v14}) {
        RmeKernelModel model(host);
        model.page_size = 65536;
        power_off_at_once(model);
        RunOptions options;
        options.seam = &model;
        try {
            cca::launch_realm(plan_for(host), options, 65536);
            FAIL() << "launched 4 KiB-granule loads on a 64 KiB-page host";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("host pages"), std::string::npos) << e.what();
        }
        EXPECT_EQ(model.seen().vms, 0);
    }
}

// DFR0: lowering BRPs below the host's CTX_CMPs must lower CTX_CMPs (the
// model refuses CTX_CMPs > BRPs; before the fix the launcher kept the
// host's 4 context-aware breakpoints with 2 breakpoints and was refused).
TEST(RealmLaunchSeam, Dfr0KeepsContextBreakpointsWithinBreakpoints) {
    RmeKernelModel model(Host::rme_v6);
    power_off_at_once(model);
    auto result = cvmtest::launch_through(model, plan_for(Host::rme_v6));
    ASSERT_EQ(result.reason, ExitReason::power_off) << result.detail << " / " << refusals(model);
    const std::uint64_t dfr0 = model.seen().dfr0_at_rd;
    EXPECT_EQ((dfr0 >> 12) & 0xf, 1u);  // 2 breakpoints
    EXPECT_EQ((dfr0 >> 20) & 0xf, 1u);  // 2 watchpoints
    EXPECT_LE((dfr0 >> 28) & 0xf, (dfr0 >> 12) & 0xf);
    EXPECT_EQ(dfr0 & 0xfff, 8u);         // the rest as the host has it
}

// The series v7 kernel refuses a lowered BRPs (seen under emulated RME):
// the launch fails before the RD, naming the option that would work.
TEST(RealmLaunchSeam, AV7HostThatKeepsItsBreakpointsIsNamed) {
    RmeKernelModel model(Host::rme_v7);
    power_off_at_once(model);
    VmSpec spec = spec_for(Host::rme_v7);
    spec.options["num-bps"] = "2";
    try {
        cvmtest::launch_through(model, find_backend("arm-cca").build_plan(spec));
        FAIL() << "a lowered BRPs passed the v7 model";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--num-bps 6"), std::string::npos) << e.what();
    }
    EXPECT_EQ(model.seen().dfr0_at_rd, 0u);
}

// A plan whose realm has one breakpoint (field 0, architecturally
// reserved) is refused by the launcher; before the fix it was written to
// DFR0 and measured.
TEST(RealmLaunchSeam, ZeroBreakpointFieldIsRefused) {
    auto plan = plan_for(Host::rme_v6);
    LaunchPlan edited(plan.technology(), plan.algorithm());
    for (auto operation : plan.operations()) {
        if (auto* create = std::get_if<op::CreateVm>(&operation)) {
            auto config = std::make_shared<cca::RealmConfig>(config_as<cca::RealmConfig>(*create, "test"));
            config->params.num_bps = 0;
            create->config = std::move(config);
        }
        edited.add(std::move(operation));
    }
    RmeKernelModel model(Host::rme_v6);
    try {
        cvmtest::launch_through(model, edited);
        FAIL() << "launched a realm with one breakpoint";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("at least 2"), std::string::npos) << e.what();
    }
}

// Capability checks before use: an IPA width above KVM_CAP_ARM_VM_IPA_SIZE
// and a kernel without guest_memfd are named before the VM (IPA) or its
// memory (guest_memfd) is made. Before the fix: "KVM_CREATE_VM failed" and
// a guest_memfd ioctl the kernel does not know.
TEST(RealmLaunchSeam, CapabilitiesAreCheckedBeforeUse) {
    {
        RmeKernelModel model(Host::rmi_v14);
        model.ipa_limit = 32;
        try {
            cvmtest::launch_through(model, plan_for(Host::rmi_v14));
            FAIL();
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("KVM_CAP_ARM_VM_IPA_SIZE"), std::string::npos) << e.what();
        }
        EXPECT_EQ(model.seen().vms, 0);
    }
    for (Host host : {Host::rme_v6, Host::rmi_v12}) {
        RmeKernelModel model(host);
        model.has_guest_memfd = false;
        try {
            cvmtest::launch_through(model, plan_for(host));
            FAIL();
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("KVM_CAP_GUEST_MEMFD"), std::string::npos) << e.what();
        }
        EXPECT_EQ(model.seen().populate_calls, 0);
    }
}

// RMI populate stopping early: one granule per call; v12 counts on the
// returned bytes, v13/v14 on the advanced struct. A 3-granule kernel.
TEST(RealmLaunchSeam, RmiPopulateResumesAfterPartialProgress) {
    for (Host host : {Host::rmi_v12, Host::rmi_v14}) {
        RmeKernelModel model(host);
        model.populate_step = 4096;
        power_off_at_once(model);
        auto spec = spec_for(host, 1);
        std::vector<std::uint8_t> kernel(3 * 4096, 0x5a);
        const auto header = cvmtest::synthetic_arm64_image(256, 0x2d10000);
        std::copy(header.begin(), header.end(), kernel.begin());
        spec.images[0] = {ImageRole::kernel, Payload::from_bytes(kernel, "Image"), true, {}};
        spec.images.pop_back();
        auto plan = find_backend("arm-cca").build_plan(spec);
        auto result = cvmtest::launch_through(model, plan);
        ASSERT_EQ(result.reason, ExitReason::power_off) << result.detail << " / " << refusals(model);
        expect_realm_matches_plan(model, plan);
        // kernel: 3 granules asked, then 2, then 1; then the DTB's granule.
        EXPECT_EQ(model.seen().populate_sizes, (std::vector<std::uint64_t>{3 * 4096, 2 * 4096, 4096, 4096}))
            << cvmtest::cca::host_name(host);
    }
}

// The exact rme-v6 sequence up to the first KVM_RUN.
TEST(RealmLaunchSeam, RmeV6Sequence) {
    RmeKernelModel model(Host::rme_v6);
    power_off_at_once(model);
    RecordingSeam seam(model);
    seam.record_runs(false);
    ASSERT_EQ(cvmtest::launch_through(seam, plan_for(Host::rme_v6)).reason, ExitReason::power_off);
    std::vector<unsigned long> requests;
    for (const auto& c : seam.calls())
        if (c.kind == "ioctl" && c.request != KVM_RUN) requests.push_back(c.request);
    auto count = [&](unsigned long r) { return std::count(requests.begin(), requests.end(), r); };
    EXPECT_EQ(count(kSetMemoryRegion), 0);
    EXPECT_EQ(count(kCreateGuestMemfd), 1);
    EXPECT_EQ(count(kSetMemoryRegion2), 1);
    EXPECT_EQ(count(kSetMemoryAttributes), 1);
    EXPECT_EQ(count(kVcpuFinalize), 2);
    std::vector<std::uint64_t> commands;
    for (const auto& c : seam.calls())
        if (c.request == kEnableCap) {
            kvm_enable_cap cap{};
            std::memcpy(&cap, c.arg.data(), sizeof cap);
            EXPECT_EQ(cap.cap, 300u);
            commands.push_back(cap.args[0]);
        }
    // CONFIG hash, CONFIG RPV, CREATE_RD, INIT_IPA, POPULATE x3, ACTIVATE.
    EXPECT_EQ(commands, (std::vector<std::uint64_t>{0, 0, 1, 2, 3, 3, 3, 4}));
}

TEST(RealmLaunchSeam, RmiV14Sequence) {
    RmeKernelModel model(Host::rmi_v14);
    power_off_at_once(model);
    RecordingSeam seam(model);
    seam.record_runs(false);
    ASSERT_EQ(cvmtest::launch_through(seam, plan_for(Host::rmi_v14)).reason, ExitReason::power_off);
    std::size_t last_reg = 0, first_populate = 0, enable_caps = 0;
    auto calls = seam.calls();
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (calls[i].request == 0x4010aeac) last_reg = i;
        if (calls[i].request == kRmiPopulateV13 && !first_populate) first_populate = i;
        enable_caps += calls[i].request == kEnableCap;
        if (calls[i].request == KVM_CREATE_VM) {
            std::uint64_t type = 0;
            std::memcpy(&type, calls[i].arg.data(), 8);
            EXPECT_EQ(type, (1ull << 30) | 33u);
        }
    }
    EXPECT_EQ(enable_caps, 0u);
    EXPECT_LT(last_reg, first_populate);
}

// A kernel without the realm capabilities, as on any host without RME.
TEST(RealmLaunchSeam, HostWithoutRmeFailsClearly) {
    class NoRealm final : public KvmSeam {
    public:
        explicit NoRealm(KvmSeam& inner) : inner_(inner) {}
        int open(const char* p, int f) override { return inner_.open(p, f); }
        int mmap(void** o, std::size_t l, int p, int f, int fd, off_t off) override { return inner_.mmap(o, l, p, f, fd, off); }
        int ioctl(int fd, unsigned long request, void* arg) override {
            return request == KVM_CHECK_EXTENSION ? 0 : inner_.ioctl(fd, request, arg);
        }

    private:
        KvmSeam& inner_;
    };
    RmeKernelModel model(Host::rmi_v14);
    NoRealm host(model);
    const std::size_t fds = cvmtest::open_fd_count();
    auto spec = spec_for(Host::rme_v6);
    spec.options["abi"] = "auto";
    try {
        cvmtest::launch_through(host, find_backend("arm-cca").build_plan(spec));
        FAIL() << "launched without RME";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("KVM_CAP_ARM_RME"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("KVM_CAP_ARM_RMI"), std::string::npos) << e.what();
    }
    EXPECT_EQ(cvmtest::open_fd_count(), fds);
    // An explicit ABI the host lacks is named.
    EXPECT_THROW(cvmtest::launch_through(host, plan_for(Host::rmi_v13)), Error);
}

TEST(RealmLaunchSeam, PlanAndHostAbiMustAgree) {
    RmeKernelModel model(Host::rmi_v14);
    auto spec = spec_for(Host::rme_v6);
    spec.options["abi"] = "auto";  // RMM 1.0 plan, the host speaks RMI
    EXPECT_THROW(cvmtest::launch_through(model, find_backend("arm-cca").build_plan(spec)), Error);
}

TEST(RealmLaunchSeam, FaultAtEveryCallLeavesNoFd) {
    for (Host host : {Host::rme_v6, Host::rmi_v14}) {
        auto plan = plan_for(host);
        std::size_t total = 0;
        {
            RmeKernelModel model(host);
            power_off_at_once(model);
            RecordingSeam seam(model);
            seam.record_runs(false);
            cvmtest::launch_through(seam, plan);
            for (const auto& line : seam.summary()) {
                if (line.find("KVM_RUN") != std::string::npos) break;
                ++total;
            }
        }
        const std::size_t fds = cvmtest::open_fd_count();
        for (std::size_t i = 0; i < total; ++i) {
            RmeKernelModel model(host);
            RecordingSeam seam(model);
            seam.fail_call(i, EIO);
            EXPECT_THROW(cvmtest::launch_through(seam, plan), Error) << cvmtest::cca::host_name(host) << " call " << i;
            EXPECT_EQ(cvmtest::open_fd_count(), fds) << cvmtest::cca::host_name(host) << " call " << i;
        }
    }
}

} // namespace
