// The plain arm64 launch at the ioctl seam, against a fake arm64 KVM: the
// exact call sequence and argument bytes (VM type with the IPA size, vCPU
// init features, vGICv3 addresses, boot registers), the UART on MMIO and
// its interrupt line, how guest exits end the run, the host's IPA limit,
// and a fault injected at every call leaving no fd behind. Built for arm64
// hosts only (the launcher needs asm/kvm.h of arm64); expected request
// numbers are spelled out, not taken from the launcher.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <linux/kvm.h>
#include <map>
#include <mutex>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "fake_kvm.hpp"
#include "seam_launch.hpp"
#include "seam_recorder.hpp"
#include "synthetic_images.hpp"
#include "test_paths.hpp"

using namespace cvm;
using cvmtest::FakeKvm;
using cvmtest::RecordingSeam;

namespace {

constexpr unsigned long kPreferredTarget = 0x8020aeaf;
constexpr unsigned long kVcpuInit = 0x4020aeae;
constexpr unsigned long kSetOneReg = 0x4010aeac;
constexpr unsigned long kCreateDevice = 0xc00caee0;
constexpr unsigned long kSetDeviceAttr = 0x4018aee1;
constexpr long kCapPsci02 = 102, kCapOneReg = 70, kCapDeviceCtrl = 89, kCapIpaSize = 165;
constexpr std::uint32_t kTargetGenericV8 = 5;
constexpr std::uint64_t kUart = 0x01000000;

LaunchPlan plan_for(unsigned vcpus = 2) {
    VmSpec spec;
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = vcpus;
    spec.cmdline = "console=ttyS0";
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(cvmtest::synthetic_arm64_image(256, 0x2d10000), "Image"),
                           true, {}});
    spec.images.push_back({ImageRole::initrd, Payload::map_file(cvmtest::vector_path("cca/initrd-14B")), true, {}});
    return find_backend("plain").build_plan(spec);
}

std::uint64_t planned(const LaunchPlan& plan, const std::string& name) {
    for (const auto& o : plan.operations())
        if (auto* s = std::get_if<op::SetRegisters>(&o))
            for (const auto& r : s->registers)
                if (r.name == name) return r.value;
    throw std::runtime_error("no planned register " + name);
}

// A fake arm64 KVM in front of FakeKvm: a 40-bit IPA limit, a preferred
// target, the vGIC device as a memfd, and a copy of every value that
// KVM_SET_ONE_REG and KVM_SET_DEVICE_ATTR point at, taken at call time.
class FakeArm64 final : public KvmSeam {
public:
    FakeArm64() {
        fake.script({[](kvm_run& run) {  // vCPU 0 powers off (PSCI SYSTEM_OFF)
            run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
            run.system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
        }});
    }
    int open(const char* p, int f) override { return fake.open(p, f); }
    int mmap(void** o, std::size_t l, int p, int f, int fd, off_t off) override {
        return fake.mmap(o, l, p, f, fd, off);
    }
    int ioctl(int fd, unsigned long request, void* arg) override {
        {
            std::lock_guard lock(mutex);
            if (int rc = answer(request, arg); rc != kForward) return rc;
        }
        return fake.ioctl(fd, request, arg);  // unlocked: KVM_RUN may block
    }

    FakeKvm fake;
    std::mutex mutex;
    int ipa_limit = 40;
    struct Attribute {
        std::uint32_t group;
        std::uint64_t attr;
        std::uint64_t value;
    };
    std::vector<Attribute> attributes;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> registers;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> irq_lines;

private:
    static constexpr int kForward = 1 << 30;
    int answer(unsigned long request, void* arg) {
        switch (request) {
        case KVM_CHECK_EXTENSION:
            if (reinterpret_cast<std::uintptr_t>(arg) == kCapIpaSize) return ipa_limit;
            break;
        case kPreferredTarget: {
            auto* init = static_cast<kvm_vcpu_init*>(arg);
            std::memset(init, 0, sizeof *init);
            init->target = kTargetGenericV8;
            return 0;
        }
        case kCreateDevice: {
            auto* create = static_cast<kvm_create_device*>(arg);
            if (create->type != KVM_DEV_TYPE_ARM_VGIC_V3) return -ENODEV;
            create->fd = static_cast<std::uint32_t>(memfd_create("vgic", MFD_CLOEXEC));
            return 0;
        }
        case kSetDeviceAttr: {
            auto* a = static_cast<kvm_device_attr*>(arg);
            std::uint64_t value = a->addr ? *reinterpret_cast<const std::uint64_t*>(a->addr) : 0;
            attributes.push_back({a->group, a->attr, value});
            return 0;
        }
        case kSetOneReg: {
            auto* reg = static_cast<kvm_one_reg*>(arg);
            registers.emplace_back(reg->id, *reinterpret_cast<const std::uint64_t*>(reg->addr));
            return 0;
        }
        case KVM_IRQ_LINE: {
            auto* line = static_cast<kvm_irq_level*>(arg);
            irq_lines.emplace_back(line->irq, line->level);
            return 0;
        }
        default: break;
        }
        return kForward;
    }
};

using Console = cvmtest::ConsoleCapture;

std::string hex(unsigned long v) { return fmt::format("{:#x}", v); }

template <class T> T arg_as(const cvmtest::RecordedCall& c) {
    T value{};
    std::memcpy(&value, c.arg.data(), std::min(sizeof value, c.arg.size()));
    return value;
}

FakeKvm::Exit mmio(std::uint64_t address, bool write, std::uint8_t value = 0) {
    return [=](kvm_run& run) {
        run.exit_reason = KVM_EXIT_MMIO;
        run.mmio.phys_addr = address;
        run.mmio.len = 1;
        run.mmio.is_write = write;
        std::memset(run.mmio.data, 0, sizeof run.mmio.data);
        run.mmio.data[0] = value;
    };
}

FakeKvm::Exit system_event(std::uint32_t type) {
    return [=](kvm_run& run) {
        run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
        run.system_event.type = type;
    };
}

TEST(PlainArm64LaunchSeam, IoctlSequence) {
    FakeArm64 arm;
    RecordingSeam seam(arm);
    seam.record_runs(false);
    auto result = cvmtest::launch_through(seam, plan_for(2));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;

    std::vector<std::string> expected{
        "open /dev/kvm",
        "kvm KVM_GET_API_VERSION",
        "kvm KVM_GET_VCPU_MMAP_SIZE",
        "kvm KVM_CHECK_EXTENSION",  // PSCI 0.2
        "kvm KVM_CHECK_EXTENSION",  // ONE_REG
        "kvm KVM_CHECK_EXTENSION",  // DEVICE_CTRL
        "kvm KVM_CHECK_EXTENSION",  // VM_IPA_SIZE
        "kvm KVM_CREATE_VM",
        "vm KVM_SET_USER_MEMORY_REGION",
        "vm " + hex(kPreferredTarget),
        "vm KVM_CREATE_VCPU", "mmap vcpu0", "vcpu0 " + hex(kVcpuInit),
        "vm KVM_CREATE_VCPU", "mmap vcpu1", "vcpu1 " + hex(kVcpuInit),
        "vm " + hex(kCreateDevice),
        "fd", "fd", "fd",  // distributor, redistributors, CTRL_INIT on the device fd
    };
    for (int i = 0; i < 6; ++i) expected.push_back("vcpu0 " + hex(kSetOneReg));  // PC, X0-X3, PSTATE
    auto got = seam.summary();
    while (!got.empty() && got.back().find("KVM_RUN") != std::string::npos) got.pop_back();
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (expected[i] == "fd") EXPECT_EQ(got[i].rfind("fd", 0), 0u) << i << ": " << got[i];
        else EXPECT_EQ(got[i], expected[i]) << i;
    }
}

TEST(PlainArm64LaunchSeam, ArgumentBytes) {
    FakeArm64 arm;
    RecordingSeam seam(arm);
    seam.record_runs(false);
    auto plan = plan_for(2);
    cvmtest::launch_through(seam, plan);
    auto calls = seam.calls();
    auto nth = [&](unsigned long request, std::size_t n) -> const cvmtest::RecordedCall& {
        for (const auto& c : calls)
            if (c.request == request && n-- == 0) return c;
        throw std::runtime_error("missing call " + hex(request));
    };
    std::vector<long> caps;
    for (const auto& c : calls)
        if (c.request == KVM_CHECK_EXTENSION) caps.push_back(arg_as<long>(c));
    EXPECT_EQ(caps, (std::vector<long>{kCapPsci02, kCapOneReg, kCapDeviceCtrl, kCapIpaSize}));

    // KVM_VM_TYPE_ARM_IPA_SIZE(33): 64 MiB of RAM at 2 GiB ends below 2^33.
    EXPECT_EQ(arg_as<std::uint64_t>(nth(KVM_CREATE_VM, 0)), 33u);
    auto region = arg_as<kvm_userspace_memory_region>(nth(KVM_SET_USER_MEMORY_REGION, 0));
    EXPECT_EQ(region.slot, 0u);
    EXPECT_EQ(region.guest_phys_addr, 0x80000000u);
    EXPECT_EQ(region.memory_size, 64ull << 20);

    // The preferred target, PSCI 0.2 on both, vCPU 1 powered off until CPU_ON.
    auto init0 = arg_as<std::array<std::uint32_t, 8>>(nth(kVcpuInit, 0));
    auto init1 = arg_as<std::array<std::uint32_t, 8>>(nth(kVcpuInit, 1));
    EXPECT_EQ(init0[0], kTargetGenericV8);
    EXPECT_EQ(init0[1], 1u << 2);
    EXPECT_EQ(init1[0], kTargetGenericV8);
    EXPECT_EQ(init1[1], (1u << 2) | (1u << 0));
    for (int i = 2; i < 8; ++i) EXPECT_EQ(init0[i], 0u);

    // vGICv3 (type 7) at the addresses the DTB gives: distributor 0x3fff0000,
    // two 128 KiB redistributors below it; then CTRL_INIT.
    EXPECT_EQ(arg_as<std::uint32_t>(nth(kCreateDevice, 0)), 7u);
    ASSERT_EQ(arm.attributes.size(), 3u);
    EXPECT_EQ(arm.attributes[0].group, 0u);
    EXPECT_EQ(arm.attributes[0].attr, 2u);
    EXPECT_EQ(arm.attributes[0].value, 0x3fff0000u);
    EXPECT_EQ(arm.attributes[1].group, 0u);
    EXPECT_EQ(arm.attributes[1].attr, 3u);
    EXPECT_EQ(arm.attributes[1].value, 0x3fff0000u - 2 * 0x20000u);
    EXPECT_EQ(arm.attributes[2].group, 4u);
    EXPECT_EQ(arm.attributes[2].attr, 0u);

    // Boot registers by ONE_REG id: PC, X0 = DTB, X1-X3 = 0, PSTATE = EL1h | DAIF.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> expected{
        {0x6030000000100040ull, planned(plan, "pc")},
        {0x6030000000100000ull, planned(plan, "x0")},
        {0x6030000000100002ull, 0},
        {0x6030000000100004ull, 0},
        {0x6030000000100006ull, 0},
        {0x6030000000100042ull, 0x3c5},
    };
    EXPECT_EQ(arm.registers, expected);
    EXPECT_EQ(planned(plan, "pc"), 0x80000000u);
    EXPECT_NE(planned(plan, "x0"), 0u);
}

TEST(PlainArm64LaunchSeam, UartOnMmioAndItsInterrupt) {
    FakeArm64 arm;
    Console console;
    arm.fake.script({
        mmio(kUart + 4, true, 0x08),  // MCR: OUT2, which gates the interrupt
        mmio(kUart + 0, true, 'h'),
        mmio(kUart + 0, true, 'i'),
        mmio(kUart + 5, false),       // LSR
        mmio(kUart + 1, true, 0x02),  // IER: THR-empty interrupt on
        mmio(0x02000000, false),      // nothing there
        system_event(KVM_SYSTEM_EVENT_SHUTDOWN),
    });
    auto result = cvmtest::launch_through(arm, plan_for(1), console.fd);
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_EQ(console.text(), "hi");
    // SPI 0 is INTID 32: KVM_ARM_IRQ_TYPE_SPI (1) << 24 | 32, raised once.
    ASSERT_FALSE(arm.irq_lines.empty());
    EXPECT_EQ(arm.irq_lines.front(), (std::pair<std::uint32_t, std::uint32_t>{(1u << 24) | 32u, 1u}));
}

TEST(PlainArm64LaunchSeam, MmioReadsSeeTheDeviceOrAllOnes) {
    // The read results are in kvm_run when the next KVM_RUN starts, which
    // the scripted exits after them observe.
    FakeArm64 arm;
    std::vector<std::uint8_t> seen;
    auto observe = [&seen](kvm_run& run) {
        seen.push_back(run.mmio.data[0]);
        run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
        run.system_event.type = KVM_SYSTEM_EVENT_RESET;
    };
    arm.fake.script({mmio(kUart + 5, false), [&seen](kvm_run& run) {
                         seen.push_back(run.mmio.data[0]);
                         run.exit_reason = KVM_EXIT_MMIO;
                         run.mmio.phys_addr = 0x02000000;
                         run.mmio.len = 4;
                         run.mmio.is_write = 0;
                     },
                     observe});
    auto result = cvmtest::launch_through(arm, plan_for(1));
    EXPECT_EQ(result.reason, ExitReason::reset) << result.detail;
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], 0x60);  // LSR: transmitter empty
    EXPECT_EQ(seen[1], 0xff);  // unclaimed MMIO floats high
}

TEST(PlainArm64LaunchSeam, GuestExitsEndTheRunAsDocumented) {
    auto run_with = [](FakeKvm::Exit exit) {
        FakeArm64 arm;
        arm.fake.script({std::move(exit)});
        return cvmtest::launch_through(arm, plan_for(1));
    };
    EXPECT_EQ(run_with(system_event(KVM_SYSTEM_EVENT_SHUTDOWN)).reason, ExitReason::power_off);
    EXPECT_EQ(run_with(system_event(KVM_SYSTEM_EVENT_RESET)).reason, ExitReason::reset);
    EXPECT_EQ(run_with(system_event(KVM_SYSTEM_EVENT_CRASH)).reason, ExitReason::emulation_failure);
    auto internal = run_with([](kvm_run& run) {
        run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
        run.internal.suberror = 1;
    });
    EXPECT_EQ(internal.reason, ExitReason::emulation_failure);
    EXPECT_NE(internal.detail.find("internal error"), std::string::npos) << internal.detail;
    auto unknown = run_with([](kvm_run& run) { run.exit_reason = KVM_EXIT_HYPERCALL; });
    EXPECT_EQ(unknown.reason, ExitReason::emulation_failure);
}

TEST(PlainArm64LaunchSeam, HostIpaLimitIsChecked) {
    FakeArm64 arm;
    arm.ipa_limit = 32;
    try {
        cvmtest::launch_through(arm, plan_for(1));
        FAIL() << "a 33-bit guest launched on a 32-bit IPA host";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("33 IPA bits"), std::string::npos) << e.what();
    }
    FakeArm64 fixed;
    fixed.ipa_limit = 0;  // no KVM_CAP_ARM_VM_IPA_SIZE: the fixed 40 bits, type 0
    RecordingSeam seam(fixed);
    seam.record_runs(false);
    EXPECT_EQ(cvmtest::launch_through(seam, plan_for(1)).reason, ExitReason::power_off);
    for (const auto& c : seam.calls())
        if (c.request == KVM_CREATE_VM) EXPECT_EQ(arg_as<std::uint64_t>(c), 0u);
}

TEST(PlainArm64LaunchSeam, FaultAtEveryCallLeavesNoFd) {
    auto plan = plan_for(2);
    std::size_t total = 0;
    {
        FakeArm64 arm;
        RecordingSeam counter(arm);
        cvmtest::launch_through(counter, plan);
        // Every set-up call and the first KVM_RUN; later runs depend on thread timing.
        for (const auto& c : counter.calls()) {
            ++total;
            if (c.name == "KVM_RUN") break;
        }
    }
    ASSERT_GT(total, 20u);
    const std::size_t fds_before = cvmtest::open_fd_count();
    for (std::size_t i = 0; i < total; ++i) {
        FakeArm64 arm;
        RecordingSeam seam(arm);
        seam.fail_call(i, EIO);
        try {
            auto result = cvmtest::launch_through(seam, plan);
            // A failed KVM_RUN ends the run as an emulation failure instead of throwing.
            EXPECT_EQ(result.reason, ExitReason::emulation_failure) << "call " << i;
        } catch (const Error& e) {
            EXPECT_EQ(e.err(), EIO) << "call " << i << ": " << e.what();
        }
        EXPECT_EQ(cvmtest::open_fd_count(), fds_before) << "fd leaked after failing call " << i;
    }
}

} // namespace
