// The plain launch at the ioctl seam, against a fake kernel: the exact call
// sequence and argument bytes, how each kind of guest exit ends the run, and
// a fault injected at every call leaving no fd behind.
#include <gtest/gtest.h>

#include <cerrno>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "fake_kvm.hpp"
#include "seam_launch.hpp"
#include "seam_recorder.hpp"
#include "synthetic_images.hpp"

using namespace cvm;
using cvmtest::FakeKvm;
using cvmtest::RecordingSeam;

namespace {

LaunchPlan plan_for(unsigned vcpus) {
    VmSpec spec;
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = vcpus;
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(cvmtest::synthetic_bzimage(), "k"), true, {}});
    return find_backend("plain").build_plan(spec);
}

using Console = cvmtest::ConsoleCapture;

constexpr std::uint32_t kS5PowerOff = (5u << 10) | (1u << 13);

TEST(PlainLaunchSeam, IoctlSequence) {
    FakeKvm fake;
    RecordingSeam seam(fake);
    seam.record_runs(false);
    fake.script({FakeKvm::port_write(0x604, kS5PowerOff, 2)});
    auto result = cvmtest::launch_through(seam, plan_for(2));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;

    std::vector<std::string> expected{
        "open /dev/kvm",
        "kvm KVM_GET_API_VERSION",
        "kvm KVM_GET_VCPU_MMAP_SIZE",
        "kvm KVM_CHECK_EXTENSION",
        "kvm KVM_CHECK_EXTENSION",
        "kvm KVM_CHECK_EXTENSION",
        "kvm KVM_CREATE_VM",
        "vm KVM_SET_TSS_ADDR",
        "vm KVM_SET_IDENTITY_MAP_ADDR",
        "vm KVM_SET_USER_MEMORY_REGION",
        "vm KVM_CREATE_IRQCHIP",
        "vm KVM_CREATE_PIT2",
        "kvm KVM_GET_SUPPORTED_CPUID",
        "vm KVM_CREATE_VCPU",
        "mmap vcpu0",
        "vcpu0 KVM_SET_CPUID2",
        "vcpu0 KVM_GET_LAPIC",
        "vcpu0 KVM_SET_LAPIC",
        "vm KVM_CREATE_VCPU",
        "mmap vcpu1",
        "vcpu1 KVM_SET_CPUID2",
        "vcpu1 KVM_GET_LAPIC",
        "vcpu1 KVM_SET_LAPIC",
        "vcpu0 KVM_GET_SREGS",
        "vcpu0 KVM_SET_SREGS",
        "vcpu0 KVM_SET_REGS",
    };
    EXPECT_EQ(seam.summary(), expected);
}

TEST(PlainLaunchSeam, ArgumentBytes) {
    FakeKvm fake;
    RecordingSeam seam(fake);
    seam.record_runs(false);
    cvmtest::launch_through(seam, plan_for(2));
    auto calls = seam.calls();
    auto find = [&](const std::string& role, const std::string& name) -> const cvmtest::RecordedCall& {
        for (const auto& c : calls)
            if (c.fd_role == role && c.name == name) return c;
        throw std::runtime_error("no call " + role + " " + name);
    };
    // The caps checked, in order: user memory, irqchip, PIT2.
    std::vector<long> caps;
    for (const auto& c : calls)
        if (c.name == "KVM_CHECK_EXTENSION") caps.push_back(cvmtest::get<long>(c.arg.data()));
    EXPECT_EQ(caps, (std::vector<long>{KVM_CAP_USER_MEMORY, KVM_CAP_IRQCHIP, KVM_CAP_PIT2}));

    auto region = cvmtest::get<kvm_userspace_memory_region>(find("vm", "KVM_SET_USER_MEMORY_REGION").arg.data());
    EXPECT_EQ(region.slot, 0u);
    EXPECT_EQ(region.guest_phys_addr, 0u);
    EXPECT_EQ(region.memory_size, 64ull << 20);

    auto tss = find("vm", "KVM_SET_TSS_ADDR");
    EXPECT_EQ(cvmtest::get<std::uint64_t>(tss.arg.data()), 0xfeffd000u);

    auto pit = cvmtest::get<kvm_pit_config>(find("vm", "KVM_CREATE_PIT2").arg.data());
    EXPECT_EQ(pit.flags, unsigned{KVM_PIT_SPEAKER_DUMMY});

    // CPUID: an 8-byte header, then 40-byte entries with the APIC ID patched in.
    for (unsigned id : {0u, 1u}) {
        const auto& set = find("vcpu" + std::to_string(id), "KVM_SET_CPUID2");
        EXPECT_EQ(set.arg.size(), 8u) << "the ioctl number must encode the 8-byte kvm_cpuid2 header";
    }

    auto regs = cvmtest::get<kvm_regs>(find("vcpu0", "KVM_SET_REGS").arg.data());
    EXPECT_EQ(regs.rip, 0x100200u);
    EXPECT_EQ(regs.rsi, 0x7000u);
    EXPECT_EQ(regs.rflags, 2u);

    auto sregs = cvmtest::get<kvm_sregs>(find("vcpu0", "KVM_SET_SREGS").arg.data());
    EXPECT_EQ(sregs.cr3, 0x9000u);
    EXPECT_EQ(sregs.efer, 0x500u);
    EXPECT_TRUE(sregs.cr0 & 0x80000001u);
    EXPECT_EQ(sregs.cr4 & 0x20u, 0x20u);
    EXPECT_EQ(sregs.gdt.base, 0x500u);
    EXPECT_EQ(sregs.cs.selector, 0x10);
    EXPECT_EQ(sregs.cs.l, 1);
    EXPECT_EQ(sregs.cs.db, 0);
    EXPECT_EQ(sregs.cs.type, 0xb);
    EXPECT_EQ(sregs.ds.selector, 0x18);
    EXPECT_EQ(sregs.ds.limit, 0xffffffffu);
    EXPECT_EQ(sregs.ds.db, 1);
}

TEST(PlainLaunchSeam, GuestExitsEndTheRunAsDocumented) {
    auto run_with = [](std::deque<FakeKvm::Exit> exits, Console* console = nullptr) {
        FakeKvm fake;
        fake.script(std::move(exits));
        return cvmtest::launch_through(fake, plan_for(1), console ? console->fd : -1, 2000);
    };
    Console console;
    auto off = run_with({FakeKvm::port_write(0x3f8, 'o', 1), FakeKvm::port_write(0x3f8, 'k', 1),
                         FakeKvm::port_write(0x604, kS5PowerOff, 2)}, &console);
    EXPECT_EQ(off.reason, ExitReason::power_off);
    EXPECT_EQ(console.text(), "ok");

    EXPECT_EQ(run_with({FakeKvm::port_write(0x64, 0xfe, 1)}).reason, ExitReason::reset);
    EXPECT_EQ(run_with({}).reason, ExitReason::triple_fault);  // KVM_EXIT_SHUTDOWN
    auto s3 = run_with({FakeKvm::port_write(0x604, (3u << 10) | (1u << 13), 2)});
    EXPECT_EQ(s3.reason, ExitReason::emulation_failure);
    EXPECT_NE(s3.detail.find("sleep type 3"), std::string::npos);
    auto emulation = run_with({[](kvm_run& r) {
        r.exit_reason = KVM_EXIT_INTERNAL_ERROR;
        r.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
    }});
    EXPECT_EQ(emulation.reason, ExitReason::emulation_failure);
    EXPECT_NE(emulation.detail.find("instruction emulation failed"), std::string::npos);

    // A guest that never stops: a steady stream of harmless port writes.
    std::deque<FakeKvm::Exit> forever;
    for (int i = 0; i < 5000; ++i)
        forever.push_back([](kvm_run& r) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            FakeKvm::port_write(0x80, 0, 1)(r);
        });
    FakeKvm fake;
    fake.script(std::move(forever));
    auto timed_out = cvmtest::launch_through(fake, plan_for(2), -1, 100);
    EXPECT_EQ(timed_out.reason, ExitReason::timeout);
}

TEST(PlainLaunchSeam, FaultAtEveryCallLeavesNothingOpen) {
    auto plan = plan_for(2);
    // Every set-up call, and then the first KVM_RUN (whichever vCPU issues
    // it): how many KVM_RUNs follow depends on thread timing.
    std::size_t setup_calls;
    {
        FakeKvm fake;
        RecordingSeam seam(fake);
        seam.record_runs(false);
        fake.script({FakeKvm::port_write(0x604, kS5PowerOff, 2)});
        ASSERT_EQ(cvmtest::launch_through(seam, plan).reason, ExitReason::power_off);
        setup_calls = seam.calls().size();
    }
    ASSERT_GT(setup_calls, 20u);
    auto fds_before = cvmtest::open_fd_count();
    for (std::size_t i = 0; i <= setup_calls; ++i) {
        FakeKvm fake;
        fake.script({FakeKvm::port_write(0x604, kS5PowerOff, 2)});
        RecordingSeam seam(fake);
        seam.fail_call(i, EIO);
        bool clean_error = false;
        std::string what;
        try {
            auto result = cvmtest::launch_through(seam, plan);
            // A failed KVM_RUN ends the run instead of throwing.
            clean_error = result.reason == ExitReason::emulation_failure &&
                          result.detail.find("KVM_RUN") != std::string::npos;
            what = result.detail;
        } catch (const Error& e) {
            clean_error = e.err() == EIO;
            what = e.what();
        }
        auto calls = seam.calls();
        EXPECT_TRUE(clean_error) << "call " << i << " (" << (i < calls.size() ? calls[i].name : "?") << "): " << what;
        EXPECT_EQ(cvmtest::open_fd_count(), fds_before) << "fd leaked after failing call " << i << ": " << what;
    }
}

} // namespace
