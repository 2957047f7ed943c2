// The riscv-cove launch at the ioctl seam, against a fake kernel: kvmtool's
// call order, the argument bytes of every CoVE call, the bytes each measure
// call hands the kernel (whole pages, zero tail), the exits a TVM takes, and
// a fault injected at every call leaving no fd behind.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cove_images.hpp"
#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "fake_kvm.hpp"
#include "seam_launch.hpp"
#include "seam_recorder.hpp"

using namespace cvm;
using cvmtest::FakeKvm;
using cvmtest::RecordingSeam;

namespace {

// Numbers written out from the RFC and the RISC-V UAPI, not taken from the
// backend's header: KVM_RISCV_COVE_MEASURE_REGION = _IOR(KVMIO, 0xb5, 24
// bytes); KVM_SET_ONE_REG = _IOW(KVMIO, 0xac, 16 bytes).
constexpr unsigned long kMeasure = 0x8018aeb5;
constexpr unsigned long kSetOneReg = 0x4010aeac;
constexpr std::uint64_t kPcId = 0x8030000002000000ULL;
constexpr std::uint64_t kA0Id = 0x803000000200000aULL;
constexpr std::uint64_t kA1Id = 0x803000000200000bULL;

LaunchPlan plan_for(unsigned vcpus, std::size_t initrd = 10000) {
    VmSpec spec;
    spec.technology = "riscv-cove";
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = vcpus;
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(covetest::riscv_image(), "Image"), true, {}});
    if (initrd)
        spec.images.push_back({ImageRole::initrd, Payload::from_bytes(covetest::pattern(initrd, 3), "initrd"), true, {}});
    return find_backend("riscv-cove").build_plan(spec);
}

FakeKvm::Exit system_event(std::uint32_t type) {
    return [type](kvm_run& r) {
        r.exit_reason = KVM_EXIT_SYSTEM_EVENT;
        r.system_event.type = type;
    };
}

FakeKvm::Exit uart_write(char c) {
    return [c](kvm_run& r) {
        r.exit_reason = KVM_EXIT_MMIO;
        r.mmio.phys_addr = 0x10000000;
        r.mmio.len = 1;
        r.mmio.is_write = 1;
        r.mmio.data[0] = static_cast<std::uint8_t>(c);
    };
}

FakeKvm::Exit sbi_putchar(char c) {
    return [c](kvm_run& r) {
        r.exit_reason = KVM_EXIT_RISCV_SBI;
        r.riscv_sbi.extension_id = 0x01;
        r.riscv_sbi.args[0] = static_cast<unsigned char>(c);
    };
}

using Console = cvmtest::ConsoleCapture;

std::uint64_t u64_at(const std::vector<std::uint8_t>& b, std::size_t at) {
    std::uint64_t v;
    std::memcpy(&v, b.data() + at, 8);
    return v;
}

TEST(CoveLaunchSeam, KvmtoolOrder) {
    FakeKvm fake;
    RecordingSeam seam(fake);
    seam.record_runs(false);
    fake.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)});
    auto result = cvmtest::launch_through(seam, plan_for(2));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    std::vector<std::string> expected{
        "open /dev/kvm",
        "kvm KVM_GET_API_VERSION",
        "kvm KVM_GET_VCPU_MMAP_SIZE",
        "kvm KVM_CHECK_EXTENSION",
        "kvm KVM_CREATE_VM",
        "vm KVM_SET_USER_MEMORY_REGION",
        "vm 0x8018aeb5",  // measure: kernel
        "vm 0x8018aeb5",  // measure: initrd
        "vm KVM_CREATE_VCPU",
        "mmap vcpu0",
        "vm KVM_CREATE_VCPU",
        "mmap vcpu1",
        "vm 0x8018aeb5",  // measure: FDT
        "vcpu0 0x4010aeac",  // pc
        "vcpu0 0x4010aeac",  // a0
        "vcpu0 0x4010aeac",  // a1
    };
    EXPECT_EQ(seam.summary(), expected);
}

TEST(CoveLaunchSeam, ArgumentBytesAndMeasuredPages) {
    struct Measured {
        std::uint64_t gpa, size;
        std::vector<std::uint8_t> pages;  // the host bytes the kernel would measure, whole pages
    };
    std::vector<Measured> measured;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> one_regs;
    FakeKvm fake;
    fake.on_other = [&](int, unsigned long request, void* arg) {
        if (request == kMeasure) {
            std::uint64_t r[3];
            std::memcpy(r, arg, sizeof r);
            std::uint64_t rounded = (r[2] + 4095) / 4096 * 4096;
            auto* host = reinterpret_cast<const std::uint8_t*>(r[0]);
            measured.push_back({r[1], r[2], std::vector<std::uint8_t>(host, host + rounded)});
        } else if (request == kSetOneReg) {
            std::uint64_t r[2];
            std::memcpy(r, arg, sizeof r);
            one_regs.emplace_back(r[0], *reinterpret_cast<const std::uint64_t*>(r[1]));
        }
        return 0;
    };
    RecordingSeam seam(fake);
    seam.record_runs(false);
    fake.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)});
    auto plan = plan_for(1);
    cvmtest::launch_through(seam, plan);

    auto calls = seam.calls();
    for (const auto& c : calls) {
        if (c.name == "KVM_CREATE_VM") {
            EXPECT_EQ(u64_at(c.arg, 0), 0x200u) << "KVM_VM_TYPE_RISCV_COVE";
        }
        if (c.name == "KVM_CHECK_EXTENSION") {
            EXPECT_EQ(u64_at(c.arg, 0), unsigned{KVM_CAP_ONE_REG});
        }
        if (c.name == "KVM_SET_USER_MEMORY_REGION") {
            kvm_userspace_memory_region region;
            ASSERT_EQ(c.arg.size(), sizeof region);
            std::memcpy(&region, c.arg.data(), sizeof region);
            EXPECT_EQ(region.slot, 0u);
            EXPECT_EQ(region.guest_phys_addr, 0x80000000u);
            EXPECT_EQ(region.memory_size, 64ull << 20);
            EXPECT_EQ(region.userspace_addr % 4096, 0u);
        }
        if (c.request == kMeasure) {
            ASSERT_EQ(c.arg.size(), 24u);
            EXPECT_EQ(u64_at(c.arg, 0) % 4096, 0u) << "userspace_addr must be page aligned";
            EXPECT_EQ(u64_at(c.arg, 8) % 4096, 0u) << "gpa must be page aligned";
        }
        if (c.request == kSetOneReg) {
            ASSERT_EQ(c.arg.size(), 16u);
        }
    }

    // One measure per region, in plan order, with each region's GPA, its
    // exact size, and the plan's bytes followed by zeros to the page end.
    std::vector<const op::LoadData*> loads;
    for (const auto& o : plan.operations())
        if (auto* l = std::get_if<op::LoadData>(&o)) loads.push_back(l);
    ASSERT_EQ(measured.size(), loads.size());
    for (std::size_t i = 0; i < loads.size(); ++i) {
        auto bytes = loads[i]->data.bytes();
        EXPECT_EQ(measured[i].gpa, loads[i]->gpa) << i;
        EXPECT_EQ(measured[i].size, bytes.size()) << i;
        EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), measured[i].pages.begin())) << i;
        for (std::size_t j = bytes.size(); j < measured[i].pages.size(); ++j)
            ASSERT_EQ(measured[i].pages[j], 0) << "tail byte " << j << " of region " << i;
    }
    EXPECT_EQ(measured[0].gpa, 0x80200000u);
    EXPECT_EQ(measured[2].size, 0x10000u);

    std::vector<std::pair<std::uint64_t, std::uint64_t>> expected{
        {kPcId, 0x80200000}, {kA0Id, 0}, {kA1Id, measured[2].gpa}};
    EXPECT_EQ(one_regs, expected);
}

TEST(CoveLaunchSeam, GuestExits) {
    auto run_with = [](std::deque<FakeKvm::Exit> exits, Console* console = nullptr) {
        FakeKvm fake;
        fake.script(std::move(exits));
        return cvmtest::launch_through(fake, plan_for(1, 0), console ? console->fd : -1);
    };
    Console console;
    auto off = run_with({uart_write('o'), sbi_putchar('k'), system_event(KVM_SYSTEM_EVENT_SHUTDOWN)}, &console);
    EXPECT_EQ(off.reason, ExitReason::power_off) << off.detail;
    EXPECT_EQ(console.text(), "ok");
    EXPECT_EQ(run_with({system_event(KVM_SYSTEM_EVENT_RESET)}).reason, ExitReason::reset);
    auto unknown = run_with({[](kvm_run& run) { run.exit_reason = 1000; }});  // no KVM has this exit
    EXPECT_EQ(unknown.reason, ExitReason::emulation_failure);
    EXPECT_NE(unknown.detail.find("exit reason 1000"), std::string::npos) << unknown.detail;
}

TEST(CoveLaunchSeam, RefusesV07AndOtherPlans) {
    VmSpec spec;
    spec.technology = "riscv-cove";
    spec.options["tsm-abi"] = "v0.7";
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(covetest::riscv_image(), "Image"), true, {}});
    auto plan = find_backend("riscv-cove").build_plan(spec);
    FakeKvm fake;
    RecordingSeam seam(fake);
    EXPECT_THROW(cvmtest::launch_through(seam, plan), Error);
    EXPECT_EQ(seam.count(), 0u) << "nothing is opened for a plan the launcher refuses";
    EXPECT_THROW(cvmtest::launch_through(seam, LaunchPlan("plain", HashAlgorithm::sha256)), Error);
}

TEST(CoveLaunchSeam, FaultAtEveryCallLeavesNothingOpen) {
    auto plan = plan_for(2);
    // Every set-up call, and then the first KVM_RUN (whichever vCPU issues
    // it): how many KVM_RUNs follow depends on thread timing.
    std::size_t setup_calls;
    {
        FakeKvm fake;
        RecordingSeam seam(fake);
        seam.record_runs(false);
        fake.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)});
        ASSERT_EQ(cvmtest::launch_through(seam, plan).reason, ExitReason::power_off);
        setup_calls = seam.calls().size();
    }
    ASSERT_GT(setup_calls, 15u);
    auto fds_before = cvmtest::open_fd_count();
    for (std::size_t i = 0; i <= setup_calls; ++i) {
        FakeKvm fake;
        fake.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)});
        RecordingSeam seam(fake);
        seam.fail_call(i, EIO);
        bool clean_error = false;
        std::string what;
        try {
            auto result = cvmtest::launch_through(seam, plan);
            clean_error = result.reason == ExitReason::emulation_failure &&
                          result.detail.find("KVM_RUN") != std::string::npos;
            what = result.detail;
        } catch (const Error& e) {
            clean_error = e.err() == EIO;
            what = e.what();
        }
        EXPECT_TRUE(clean_error) << "call " << i << ": " << what;
        EXPECT_EQ(cvmtest::open_fd_count(), fds_before) << "fd leaked after failing call " << i << ": " << what;
    }
}

} // namespace
