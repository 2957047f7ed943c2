// The realm launcher at the ioctl seam, against a fake kernel: the exact
// call sequence and argument bytes of each host ABI (KVM_CAP_ARM_RME v5/v6
// and KVM_CAP_ARM_RMI v12/v14), populate retried on partial progress, the
// probe on a host without RME, and a fault injected at every call leaving no
// fd behind. Expected request numbers are spelled out from the kernel
// series' definitions, not taken from the launcher's header.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "fake_kvm.hpp"
#include "seam_launch.hpp"
#include "seam_recorder.hpp"
#include "test_paths.hpp"

using namespace cvm;
using cvmtest::FakeKvm;
using cvmtest::RecordingSeam;

namespace {

constexpr unsigned long kEnableCap = 0x4068aea3;
constexpr unsigned long kPreferredTarget = 0x8020aeaf;
constexpr unsigned long kVcpuInit = 0x4020aeae;
constexpr unsigned long kGetOneReg = 0x4010aeab;
constexpr unsigned long kSetOneReg = 0x4010aeac;
constexpr unsigned long kCreateDevice = 0xc00caee0;
constexpr unsigned long kSetDeviceAttr = 0x4018aee1;
constexpr unsigned long kVcpuFinalize = 0x4004aec2;
constexpr unsigned long kCreateGuestMemfd = 0xc040aed4;
constexpr unsigned long kSetMemoryRegion2 = 0x40a0ae49;
constexpr unsigned long kSetMemoryAttributes = 0x4020aed2;
constexpr unsigned long kRmiPopulateV12 = 0x4020aed7;
constexpr unsigned long kRmiPopulateV13 = 0xc020aed7;

LaunchPlan plan_for(const std::string& abi, const std::string& rmm, unsigned vcpus = 2) {
    VmSpec spec;
    spec.technology = "arm-cca";
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = vcpus;
    spec.options = {{"abi", abi}, {"rmm", rmm}, {"num-bps", "2"}, {"num-wps", "2"}};
    spec.images.push_back({ImageRole::kernel, Payload::map_file(cvmtest::vector_path("cca/crm-testdata-linux.bin")),
                           true, {}});
    spec.images.push_back({ImageRole::initrd, Payload::map_file(cvmtest::vector_path("cca/initrd-14B")), true, {}});
    return find_backend("arm-cca").build_plan(spec);
}

// A fake arm64 KVM: device and guest_memfd fds are memfds, ID_AA64DFR0_EL1
// reports 6 breakpoints and 4 watchpoints, KVM_ARM_RMI_POPULATE does at most
// one granule per call.
struct FakeArmKvm {
    FakeKvm fake;
    std::vector<std::uint64_t> populate_sizes_seen;
    FakeArmKvm() {
        fake.on_other = [this](int, unsigned long request, void* arg) -> int {
            switch (request) {
            case kCreateDevice: {
                auto* create = static_cast<kvm_create_device*>(arg);
                create->fd = static_cast<std::uint32_t>(memfd_create("vgic", MFD_CLOEXEC));
                return 0;
            }
            case kCreateGuestMemfd: return memfd_create("gmem", MFD_CLOEXEC);
            case kGetOneReg: {
                auto* reg = static_cast<kvm_one_reg*>(arg);
                std::uint64_t dfr0 = (5ull << 12) | (3ull << 20) | 6;
                std::memcpy(reinterpret_cast<void*>(reg->addr), &dfr0, 8);
                return 0;
            }
            case kRmiPopulateV12: {
                auto* p = static_cast<std::uint64_t*>(arg);
                populate_sizes_seen.push_back(p[1]);
                return 4096;
            }
            case kRmiPopulateV13: {
                auto* p = static_cast<std::uint64_t*>(arg);  // base, size, source_uaddr
                populate_sizes_seen.push_back(p[1]);
                p[0] += 4096;
                p[1] -= 4096;
                p[2] += 4096;
                return 0;
            }
            default: return 0;
            }
        };
        // vCPU 0 powers the realm off at once (PSCI SYSTEM_OFF).
        fake.script({[](kvm_run& run) {
            run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
            run.system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
        }});
    }
};

std::string hex(unsigned long v) { return fmt::format("{:#x}", v); }

template <class T> T arg_as(const cvmtest::RecordedCall& c) {
    T value{};
    std::memcpy(&value, c.arg.data(), std::min(sizeof value, c.arg.size()));
    return value;
}

std::vector<std::string> prefix_until_run(const RecordingSeam& seam) {
    std::vector<std::string> lines;
    for (const auto& line : seam.summary()) {
        if (line.find("KVM_RUN") != std::string::npos) break;
        lines.push_back(line);
    }
    return lines;
}

TEST(RealmLaunchSeam, RmeV6Sequence) {
    FakeArmKvm arm;
    RecordingSeam seam(arm.fake);
    seam.record_runs(false);
    auto result = cvmtest::launch_through(seam, plan_for("rme-v6", "1.0"));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;

    const std::string cap = "vm " + hex(kEnableCap);
    std::vector<std::string> expected{
        "open /dev/kvm", "kvm KVM_GET_API_VERSION", "kvm KVM_GET_VCPU_MMAP_SIZE",
        "kvm KVM_CHECK_EXTENSION",  // KVM_CAP_ARM_RME
        "kvm KVM_CREATE_VM", "vm KVM_SET_USER_MEMORY_REGION",
        "vm " + hex(kPreferredTarget),
        "vm KVM_CREATE_VCPU", "mmap vcpu0", "vcpu0 " + hex(kVcpuInit),
        "vm KVM_CREATE_VCPU", "mmap vcpu1", "vcpu1 " + hex(kVcpuInit),
        "vcpu0 " + hex(kGetOneReg), "vcpu0 " + hex(kSetOneReg),
        "vm " + hex(kCreateDevice),
        "fd" , "fd", "fd",  // three vgic attributes, on the device fd
        cap, cap, cap,      // CONFIG_REALM hash, CONFIG_REALM RPV, CREATE_RD
        cap,                // INIT_IPA_REALM over RAM
        cap, cap, cap,      // POPULATE kernel, DTB, initrd (ascending IPA)
    };
    for (int i = 0; i < 9; ++i) expected.push_back("vcpu0 " + hex(kSetOneReg));  // PC, X0-X7
    expected.push_back("vcpu0 " + hex(kVcpuFinalize));
    expected.push_back("vcpu1 " + hex(kVcpuFinalize));
    expected.push_back(cap);  // ACTIVATE
    auto got = prefix_until_run(seam);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (expected[i] == "fd") EXPECT_EQ(got[i].rfind("fd", 0), 0u) << i << ": " << got[i];
        else EXPECT_EQ(got[i], expected[i]) << i;
    }

    auto calls = seam.calls();
    auto nth = [&](unsigned long request, std::size_t n) -> const cvmtest::RecordedCall& {
        for (const auto& c : calls)
            if (c.request == request && n-- == 0) return c;
        throw std::runtime_error("missing call " + hex(request));
    };
    EXPECT_EQ(arg_as<long>(nth(KVM_CHECK_EXTENSION, 0)), 300);
    EXPECT_EQ(arg_as<std::uint64_t>(nth(KVM_CREATE_VM, 0)), 0x100u | 33u);  // REALM | IPA 33 (64 MiB at 2 GiB)
    auto init0 = arg_as<std::array<std::uint32_t, 8>>(nth(kVcpuInit, 0));
    auto init1 = arg_as<std::array<std::uint32_t, 8>>(nth(kVcpuInit, 1));
    EXPECT_EQ(init0[1], (1u << 8) | (1u << 2));              // REC | PSCI 0.2
    EXPECT_EQ(init1[1], (1u << 8) | (1u << 2) | (1u << 0));  // ... | POWER_OFF
    // ENABLE_CAP: cap 300, args[0] = sub-command; argument structs follow the pointer in args[1].
    std::vector<std::uint64_t> commands;
    for (const auto& c : calls)
        if (c.request == kEnableCap) {
            auto cap_arg = arg_as<kvm_enable_cap>(c);
            EXPECT_EQ(cap_arg.cap, 300u);
            commands.push_back(cap_arg.args[0]);
        }
    EXPECT_EQ(commands, (std::vector<std::uint64_t>{0, 0, 1, 2, 3, 3, 3, 4}));
    auto finalize = arg_as<int>(nth(kVcpuFinalize, 0));
    EXPECT_EQ(finalize, 8);  // KVM_ARM_VCPU_REC
    // ID_AA64DFR0_EL1 lowered to 2 breakpoints and 2 watchpoints (fields hold count - 1).
    auto dfr0_set = arg_as<kvm_one_reg>(nth(kSetOneReg, 0));
    EXPECT_EQ(dfr0_set.id, 0x603000000013c028ull);
    // Boot registers: PC = RAM base, X0 = the DTB.
    auto pc = arg_as<kvm_one_reg>(nth(kSetOneReg, 1));
    auto x0 = arg_as<kvm_one_reg>(nth(kSetOneReg, 2));
    EXPECT_EQ(pc.id, 0x6030000000100040ull);
    EXPECT_EQ(x0.id, 0x6030000000100000ull);
}

// The argument structs behind ENABLE_CAP are read from the live pointers,
// so record them through a seam that copies them at call time.
class RmeArgs final : public KvmSeam {
public:
    explicit RmeArgs(KvmSeam& inner) : inner_(inner) {}
    int open(const char* p, int f) override { return inner_.open(p, f); }
    int mmap(void** o, std::size_t l, int p, int f, int fd, off_t off) override { return inner_.mmap(o, l, p, f, fd, off); }
    int ioctl(int fd, unsigned long request, void* arg) override {
        if (request == kEnableCap) {
            auto* cap = static_cast<kvm_enable_cap*>(arg);
            auto* p = reinterpret_cast<const std::uint8_t*>(cap->args[1]);
            std::size_t size = cap->args[0] == 0 ? 260 : (cap->args[0] == 2 || cap->args[0] == 3) ? 32 : 0;
            payloads.emplace_back(cap->args[0], std::vector<std::uint8_t>(p, p + size));
        }
        return inner_.ioctl(fd, request, arg);
    }
    std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> payloads;

private:
    KvmSeam& inner_;
};

std::uint64_t le64(const std::vector<std::uint8_t>& b, std::size_t off) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | b[off + i];
    return v;
}

TEST(RealmLaunchSeam, RmeV6ArgumentBytes) {
    FakeArmKvm arm;
    RmeArgs args(arm.fake);
    auto plan = plan_for("rme-v6", "1.0");
    cvmtest::launch_through(args, plan);
    ASSERT_EQ(args.payloads.size(), 8u);
    // CONFIG_REALM(HASH_ALGO = SHA-256), then CONFIG_REALM(RPV = zero).
    EXPECT_EQ(args.payloads[0].second[0], 1);
    EXPECT_EQ(args.payloads[0].second[4], 0);
    EXPECT_EQ(args.payloads[1].second[0], 0);
    // INIT_IPA_REALM over all RAM: base 0x80000000, size 64 MiB.
    EXPECT_EQ(le64(args.payloads[3].second, 0), 0x80000000u);
    EXPECT_EQ(le64(args.payloads[3].second, 8), 64ull << 20);
    // POPULATE per region, granule aligned, MEASURE: the 256-byte kernel at
    // RAM base, the 14-byte initrd, then the DTB.
    EXPECT_EQ(le64(args.payloads[4].second, 0), 0x80000000u);
    EXPECT_EQ(le64(args.payloads[4].second, 8), 4096u);
    EXPECT_EQ(args.payloads[4].second[16], 1);
    std::vector<std::uint64_t> loads;
    for (const auto& operation : plan.operations())
        if (auto* l = std::get_if<op::LoadData>(&operation)) loads.push_back(l->gpa / 4096 * 4096);
    ASSERT_EQ(loads.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(le64(args.payloads[4 + i].second, 0), loads[i]);
}

TEST(RealmLaunchSeam, RmiV14SequenceAndPartialPopulate) {
    FakeArmKvm arm;
    RecordingSeam seam(arm.fake);
    seam.record_runs(false);
    auto plan = plan_for("rmi-v14", "2.0");
    auto result = cvmtest::launch_through(seam, plan);
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    auto calls = seam.calls();
    std::vector<unsigned long> requests;
    for (const auto& c : calls)
        if (c.kind == "ioctl") requests.push_back(c.request);
    auto count = [&](unsigned long r) { return std::count(requests.begin(), requests.end(), r); };
    EXPECT_EQ(count(kEnableCap), 0);
    EXPECT_EQ(count(kVcpuFinalize), 0);
    EXPECT_EQ(count(kCreateGuestMemfd), 1);
    EXPECT_EQ(count(kSetMemoryRegion2), 1);
    EXPECT_EQ(count(kSetMemoryAttributes), 1);
    for (const auto& c : calls) {
        if (c.request == KVM_CHECK_EXTENSION) { EXPECT_EQ(arg_as<long>(c), 249); }
        if (c.request == KVM_CREATE_VM) { EXPECT_EQ(arg_as<std::uint64_t>(c), (1ull << 30) | 33u); }
        if (c.request == kSetMemoryAttributes) { EXPECT_EQ((arg_as<std::array<std::uint64_t, 4>>(c)[2]), 8u); }
        if (c.request == kSetMemoryRegion2) { EXPECT_EQ((arg_as<std::array<std::uint32_t, 2>>(c)[1]), 4u); }
    }
    // No REC feature in VCPU_INIT under the RMI ABI.
    for (const auto& c : calls)
        if (c.request == kVcpuInit) { EXPECT_EQ((arg_as<std::array<std::uint32_t, 8>>(c)[1] & (1u << 8)), 0u); }
    // Populate after the boot registers, retried one granule at a time until size == 0.
    std::size_t last_reg = 0, first_populate = 0;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (calls[i].request == kSetOneReg) last_reg = i;
        if (calls[i].request == kRmiPopulateV13 && !first_populate) first_populate = i;
    }
    EXPECT_LT(last_reg, first_populate);
    // Kernel 1 granule, initrd 1 granule, the libcvm DTB 1 granule: 3 calls
    // of 4096; a multi-granule region would show decreasing sizes.
    EXPECT_EQ(arm.populate_sizes_seen, (std::vector<std::uint64_t>{4096, 4096, 4096}));
}

TEST(RealmLaunchSeam, RmiV12RetriesOnReturnedBytes) {
    FakeArmKvm arm;
    VmSpec spec;
    spec.technology = "arm-cca";
    spec.memory.size = 64ull << 20;
    spec.options = {{"abi", "rmi-v12"}, {"rmm", "2.0"}, {"num-bps", "2"}, {"num-wps", "2"}};
    std::vector<std::uint8_t> kernel(3 * 4096, 0);
    auto header = Payload::map_file(cvmtest::vector_path("cca/crm-testdata-linux.bin"));
    std::copy(header.bytes().begin(), header.bytes().end(), kernel.begin());
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(kernel, "Image"), true, {}});
    RecordingSeam seam(arm.fake);
    cvmtest::launch_through(seam, find_backend("arm-cca").build_plan(spec));
    EXPECT_EQ(arm.populate_sizes_seen, (std::vector<std::uint64_t>{3 * 4096, 2 * 4096, 4096, 4096}));
    std::size_t v12_calls = 0;
    for (const auto& c : seam.calls()) v12_calls += c.request == kRmiPopulateV12;
    EXPECT_EQ(v12_calls, 4u);
}

// A kernel without the realm capabilities, as on any host without RME.
class NoRealmKvm final : public KvmSeam {
public:
    explicit NoRealmKvm(KvmSeam& inner) : inner_(inner) {}
    int open(const char* p, int f) override { return inner_.open(p, f); }
    int mmap(void** o, std::size_t l, int p, int f, int fd, off_t off) override { return inner_.mmap(o, l, p, f, fd, off); }
    int ioctl(int fd, unsigned long request, void* arg) override {
        if (request == KVM_CHECK_EXTENSION) return 0;
        return inner_.ioctl(fd, request, arg);
    }

private:
    KvmSeam& inner_;
};

TEST(RealmLaunchSeam, HostWithoutRmeFailsClearly) {
    FakeArmKvm arm;
    NoRealmKvm host(arm.fake);
    const std::size_t fds = cvmtest::open_fd_count();
    try {
        cvmtest::launch_through(host, plan_for("auto", "1.0"));
        FAIL() << "launched without RME";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("KVM_CAP_ARM_RME"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("KVM_CAP_ARM_RMI"), std::string::npos) << e.what();
    }
    EXPECT_EQ(cvmtest::open_fd_count(), fds);
    // An explicit ABI the host lacks is named.
    EXPECT_THROW(cvmtest::launch_through(host, plan_for("rmi-v13", "2.0")), Error);
}

TEST(RealmLaunchSeam, PlanAndHostAbiMustAgree) {
    FakeArmKvm arm;  // answers every capability: "auto" picks rmi-v14
    EXPECT_THROW(cvmtest::launch_through(arm.fake, plan_for("auto", "1.0")), Error);
}

TEST(RealmLaunchSeam, FaultAtEveryCallLeavesNoFd) {
    for (const auto& [abi, rmm] : {std::pair{"rme-v6", "1.0"}, std::pair{"rmi-v14", "2.0"}}) {
        auto plan = plan_for(abi, rmm);
        std::size_t total = 0;
        {
            FakeArmKvm arm;
            RecordingSeam seam(arm.fake);
            seam.record_runs(false);
            cvmtest::launch_through(seam, plan);
            total = prefix_until_run(seam).size();
        }
        const std::size_t fds = cvmtest::open_fd_count();
        for (std::size_t i = 0; i < total; ++i) {
            FakeArmKvm arm;
            RecordingSeam seam(arm.fake);
            seam.fail_call(i, EIO);
            EXPECT_THROW(cvmtest::launch_through(seam, plan), Error) << abi << " call " << i;
            EXPECT_EQ(cvmtest::open_fd_count(), fds) << abi << " call " << i;
        }
    }
}

} // namespace
