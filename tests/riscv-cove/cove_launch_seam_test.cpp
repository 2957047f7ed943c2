// The riscv-cove launch at the ioctl seam, against the model of the CoVE host
// KVM (cove_kernel_model.hpp): kvmtool's call order, the argument bytes of
// every CoVE call, the bytes each measure call hands the kernel (whole pages,
// zero tail), the pc and a1 the first KVM_RUN finalizes with, the exits a TVM
// takes, a fault injected at every call leaving no fd behind, and wrong
// sequences the model refuses as the kernel would.
#include <gtest/gtest.h>

#include <map>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cove_images.hpp"
#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cove_kernel_model.hpp"
#include "fake_kvm.hpp"
#include "seam_launch.hpp"
#include "seam_recorder.hpp"

using namespace cvm;
using cvmtest::FakeKvm;
using cvmtest::RecordingSeam;
using cvmtest::cove::CoveKernelModel;

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
    CoveKernelModel fake;
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
        // The AIA IMSICs the DTB declares, as kvmtool's riscv/aia.c sets them
        // up: create, read the mode and the id count, set the hart bits and
        // each hart's IMSIC address, init.
        "vm 0xc00caee0",   // KVM_CREATE_DEVICE = _IOWR(KVMIO, 0xe0, struct kvm_create_device)
        "fd 0x4018aee2",   // KVM_GET_DEVICE_ATTR = _IOW(KVMIO, 0xe2, struct kvm_device_attr): mode
        "fd 0x4018aee2",   // ids
        "fd 0x4018aee1",   // KVM_SET_DEVICE_ATTR = _IOW(KVMIO, 0xe1, ...): hart bits
        "fd 0x4018aee1",   // IMSIC of hart 0
        "fd 0x4018aee1",   // IMSIC of hart 1
        "fd 0x4018aee1",   // init
        "vm 0x8018aeb5",  // measure: FDT
        "vcpu0 0x4010aeac",  // pc
        "vcpu0 0x4010aeac",  // a0
        "vcpu0 0x4010aeac",  // a1
    };
    auto got = seam.summary();
    for (auto& call : got)
        if (call.rfind("fd", 0) == 0) call = "fd" + call.substr(call.find(' '));  // the device's fd number varies
    EXPECT_EQ(got, expected);
    auto seen = fake.seen();
    EXPECT_TRUE(seen.aia_initialized);
    EXPECT_EQ(seen.aia_hart_bits, 2u);  // kvmtool: fls(2 harts)
    EXPECT_EQ(seen.imsic_addr, (std::map<unsigned, std::uint64_t>{{0, 0x08000000}, {1, 0x08001000}}));
}

// The DTB declares riscv,num-ids as the plan's imsic-num-ids; a host whose
// AIA has another count is refused, naming the option.
TEST(CoveLaunchSeam, AnAiaWithOtherIdsThanTheDtbIsRefused) {
    CoveKernelModel fake;
    fake.aia_nr_ids = 127;
    fake.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)});
    try {
        cvmtest::launch_through(fake, plan_for(1));
        FAIL() << "launched a TVM whose DTB declares ids the host's AIA does not have";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("imsic-num-ids=127"), std::string::npos) << e.what();
    }
}

TEST(CoveLaunchSeam, ArgumentBytesAndMeasuredPages) {
    struct Measured {
        std::uint64_t gpa, size;
        std::vector<std::uint8_t> pages;  // what the TSM measured at the call, whole pages
    };
    CoveKernelModel fake;
    RecordingSeam seam(fake);
    seam.record_runs(false);
    fake.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)});
    auto plan = plan_for(1);
    auto result = cvmtest::launch_through(seam, plan);
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    auto seen = fake.seen();
    EXPECT_TRUE(seen.refused.empty()) << seen.refused.front();

    std::vector<Measured> measured;
    std::vector<std::uint64_t> one_reg_ids;
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
            Measured m{u64_at(c.arg, 8), u64_at(c.arg, 16), {}};
            for (const auto& page : seen.measured)
                if (page.gpa >= m.gpa && page.gpa < m.gpa + m.size)
                    m.pages.insert(m.pages.end(), page.bytes.begin(), page.bytes.end());
            measured.push_back(std::move(m));
        }
        if (c.request == kSetOneReg) {
            ASSERT_EQ(c.arg.size(), 16u);
            one_reg_ids.push_back(u64_at(c.arg, 0));
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
        ASSERT_EQ(measured[i].pages.size(), (bytes.size() + 4095) / 4096 * 4096) << i;
        EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), measured[i].pages.begin())) << i;
        for (std::size_t j = bytes.size(); j < measured[i].pages.size(); ++j)
            ASSERT_EQ(measured[i].pages[j], 0) << "tail byte " << j << " of region " << i;
    }
    EXPECT_EQ(measured[0].gpa, 0x80200000u);
    EXPECT_EQ(measured[2].size, 0x10000u);

    std::vector<std::uint64_t> expected_ids{kPcId, kA0Id, kA1Id};
    EXPECT_EQ(one_reg_ids, expected_ids);
    EXPECT_EQ(seen.vcpu0_regs["pc"], 0x80200000u);
    EXPECT_EQ(seen.vcpu0_regs["a0"], 0u);
    EXPECT_EQ(seen.vcpu0_regs["a1"], measured[2].gpa);
    // The first KVM_RUN finalized the TVM with the kernel entry and the FDT.
    EXPECT_TRUE(seen.finalized);
    EXPECT_EQ(seen.finalize_pc, 0x80200000u);
    EXPECT_EQ(seen.finalize_a1, measured[2].gpa);
    EXPECT_EQ(seen.regs_after_finalize, 0);
    EXPECT_EQ(seen.tvm_vcpus_missing, 0);
}

TEST(CoveLaunchSeam, GuestExits) {
    auto run_with = [](std::deque<FakeKvm::Exit> exits, Console* console = nullptr) {
        CoveKernelModel fake;
        fake.script(std::move(exits));
        auto result = cvmtest::launch_through(fake, plan_for(1, 0), console ? console->fd : -1);
        auto seen = fake.seen();
        EXPECT_TRUE(seen.refused.empty()) << seen.refused.front();
        EXPECT_TRUE(seen.impossible_exits.empty()) << seen.impossible_exits.front();
        return result;
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
    CoveKernelModel fake;
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
        CoveKernelModel fake;
        RecordingSeam seam(fake);
        seam.record_runs(false);
        fake.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)});
        ASSERT_EQ(cvmtest::launch_through(seam, plan).reason, ExitReason::power_off);
        setup_calls = seam.calls().size();
    }
    ASSERT_GT(setup_calls, 15u);
    auto fds_before = cvmtest::open_fd_count();
    for (std::size_t i = 0; i <= setup_calls; ++i) {
        CoveKernelModel fake;
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

// A hand-written launcher, one seam call at a time, so each test below can
// make exactly one mistake and show the model refusing it as the kernel does.
struct RawLaunch {
    static constexpr std::uint64_t kRam = 0x80000000, kRamSize = 16 << 20;
    CoveKernelModel& kvm;
    int sys = -1, vm = -1, vcpu0 = -1;
    void* ram = MAP_FAILED;

    explicit RawLaunch(CoveKernelModel& model) : kvm(model) {
        ram = ::mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    ~RawLaunch() {
        for (int fd : {vcpu0, vm, sys})
            if (fd >= 0) close(fd);
        if (ram != MAP_FAILED) ::munmap(ram, kRamSize);
    }
    std::uint64_t host(std::uint64_t gpa) const { return reinterpret_cast<std::uint64_t>(ram) + (gpa - kRam); }
    int create_vm(unsigned long type = 1ul << 9) {
        sys = kvm.open("/dev/kvm", O_RDWR);
        vm = kvm.ioctl(sys, KVM_CREATE_VM, reinterpret_cast<void*>(type));
        return vm < 0 ? vm : 0;
    }
    int memslot(std::uint64_t gpa = kRam, std::uint64_t size = kRamSize, std::uint32_t slot = 0) {
        kvm_userspace_memory_region r{slot, 0, gpa, size, host(gpa)};
        return kvm.ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
    }
    int measure(std::uint64_t hva, std::uint64_t gpa, std::uint64_t size) {
        std::uint64_t mr[3] = {hva, gpa, size};
        return kvm.ioctl(vm, kMeasure, mr);
    }
    int create_vcpu(unsigned long id) { return kvm.ioctl(vm, KVM_CREATE_VCPU, reinterpret_cast<void*>(id)); }
    int set_reg(int vcpu, std::uint64_t id, std::uint64_t value) {
        kvm_one_reg reg{id, reinterpret_cast<std::uint64_t>(&value)};
        return kvm.ioctl(vcpu, kSetOneReg, &reg);
    }
    int run(int vcpu) { return kvm.ioctl(vcpu, KVM_RUN, nullptr); }

    // The right sequence up to, not including, the first KVM_RUN.
    void prepare() {
        ASSERT_NE(ram, MAP_FAILED);
        ASSERT_EQ(create_vm(), 0);
        ASSERT_EQ(memslot(), 0);
        std::memset(reinterpret_cast<void*>(host(0x80200000)), 0x13, 8192);
        ASSERT_EQ(measure(host(0x80200000), 0x80200000, 8192), 0);
        vcpu0 = create_vcpu(0);
        ASSERT_GE(vcpu0, 0);
        ASSERT_EQ(set_reg(vcpu0, kPcId, 0x80200000), 0);
        ASSERT_EQ(set_reg(vcpu0, kA1Id, 0x82200000), 0);
    }
};

// cove.c kvm_riscv_cove_vm_measure_pages and kvm_riscv_cove_vm_add_memreg
// refuse once the first KVM_RUN has finalized the TVM; a vCPU created then
// gets an fd but no TSM vCPU (RFC 33/48), and register writes no longer
// reach the TVM. A launcher that measured the FDT after starting vCPU 0
// would fail here.
TEST(CoveKernelModelRefuses, MeasureAndMemslotAfterTheFirstRun) {
    CoveKernelModel kvm;
    kvm.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)});
    RawLaunch l(kvm);
    l.prepare();
    ASSERT_FALSE(kvm.seen().finalized) << "nothing finalizes before KVM_RUN";
    ASSERT_EQ(l.run(l.vcpu0), 0);
    auto seen = kvm.seen();
    EXPECT_TRUE(seen.finalized);
    EXPECT_EQ(seen.finalize_pc, 0x80200000u);
    EXPECT_EQ(seen.finalize_a1, 0x82200000u);

    EXPECT_EQ(l.measure(l.host(0x82200000), 0x82200000, 0x10000), -EINVAL);
    EXPECT_EQ(l.memslot(0x90000000, 4096, 1), -EINVAL);
    EXPECT_EQ(l.set_reg(l.vcpu0, kA1Id, 0x83000000), 0) << "the kernel takes the write";
    int late = l.create_vcpu(1);
    ASSERT_GE(late, 0) << "postcreate cannot fail the call";
    EXPECT_EQ(l.run(late), -EIO);
    close(late);
    seen = kvm.seen();
    EXPECT_EQ(seen.finalize_a1, 0x82200000u) << "a later a1 never reaches the TSM";
    EXPECT_EQ(seen.regs_after_finalize, 1);
    EXPECT_EQ(seen.tvm_vcpus_missing, 1);
    EXPECT_EQ(seen.measured.size(), 2u) << "only the two pages measured before the run";
}

// kvm_riscv_cove_vm_measure_pages: page-aligned host address and GPA, a
// non-zero size, inside the confidential region (the memslot); the host
// pages must be mapped for get_user_pages_fast.
TEST(CoveKernelModelRefuses, MisalignedEmptyOrOutsideTheMemslot) {
    CoveKernelModel kvm;
    RawLaunch l(kvm);
    ASSERT_NE(l.ram, MAP_FAILED);
    ASSERT_EQ(l.create_vm(), 0);
    EXPECT_EQ(l.measure(l.host(0x80200000), 0x80200000, 4096), -EINVAL) << "no memslot yet";
    ASSERT_EQ(l.memslot(), 0);
    EXPECT_EQ(l.measure(l.host(0x80200000) + 0x100, 0x80200000, 4096), -EINVAL) << "host address";
    EXPECT_EQ(l.measure(l.host(0x80200000), 0x80200100, 4096), -EINVAL) << "GPA";
    EXPECT_EQ(l.measure(l.host(0x80200000), 0x80200000, 0), -EINVAL) << "size 0";
    const std::uint64_t last = RawLaunch::kRam + RawLaunch::kRamSize - 4096;
    EXPECT_EQ(l.measure(l.host(last), last, 8192), -EINVAL) << "runs past the memslot";
    EXPECT_EQ(l.measure(l.host(0x80000000), 0x7ffff000, 8192), -EINVAL) << "starts below it";
    EXPECT_EQ(l.measure(l.host(last), last, 4096), 0) << "the last page is inside";

    void* hole = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(hole, MAP_FAILED);
    ::munmap(hole, 4096);
    EXPECT_EQ(l.measure(reinterpret_cast<std::uint64_t>(hole), 0x80300000, 4096), -EFAULT) << "unmapped host page";
    EXPECT_EQ(kvm.seen().refused.size(), 7u);
}

// vm.c: a VM created with another type (one QEMU CoVE patch uses 1 << 10) is
// an ordinary VM, and the measure ioctl is -EINVAL on it; without CoVE the
// TVM type is -EPERM (RFC 35/48).
TEST(CoveKernelModelRefuses, WrongVmTypeOrNoCove) {
    {
        CoveKernelModel kvm;
        RawLaunch l(kvm);
        ASSERT_EQ(l.create_vm(1ul << 10), 0);
        ASSERT_EQ(l.memslot(), 0);
        EXPECT_EQ(l.measure(l.host(0x80200000), 0x80200000, 4096), -EINVAL);
        EXPECT_FALSE(kvm.seen().cove_vm);
    }
    CoveKernelModel kvm;
    kvm.cove_enabled = false;
    RawLaunch l(kvm);
    EXPECT_EQ(l.create_vm(), -EPERM);
}

// The real launcher, given a plan that loads its kernel at a GPA off a page
// boundary, passes it on; the model refuses the measure call as the kernel
// does and the launch fails with that errno.
TEST(CoveKernelModelRefuses, TheLauncherWithAMisalignedLoad) {
    LaunchPlan plan("riscv-cove", HashAlgorithm::sha256);
    // The configuration as a plan's text form carries it.
    const std::vector<ConfigField> fields{{"arch", "riscv64"}, {"vm-type", "0x200"}, {"tsm-abi", "v0.5"},
                                         {"covh-add-measured-pages-fid", "10"}, {"measurement-model", "salus"}};
    plan.add(op::CreateVm{find_backend("riscv-cove").decode_config(fields)});
    plan.add(op::AddMemory{0x80000000, 64ull << 20, true, "ram"});
    op::LoadData load;
    load.gpa = 0x80200100;
    load.data = Payload::from_bytes(covetest::riscv_image(), "Image");
    load.label = "kernel";
    plan.add(load);
    plan.add(op::CreateVcpus{1});
    plan.add(op::SetRegisters{0, {{"pc", 0x80200100}, {"a0", 0}, {"a1", 0x82200000}}});
    plan.add(op::Finalize{});
    CoveKernelModel kvm;
    kvm.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)});
    try {
        cvmtest::launch_through(kvm, plan);
        ADD_FAILURE() << "the launch went on past a refused measure call";
    } catch (const Error& e) {
        EXPECT_EQ(e.err(), EINVAL) << e.what();
    }
    auto seen = kvm.seen();
    ASSERT_EQ(seen.refused.size(), 1u);
    EXPECT_NE(seen.refused[0].find("alignment"), std::string::npos) << seen.refused[0];
    EXPECT_FALSE(seen.finalized);
}

} // namespace
