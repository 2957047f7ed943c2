// The plain riscv64 launch at the ioctl seam, against a fake RISC-V KVM
// that answers KVM_GET_ONE_REG and KVM_SET_ONE_REG as
// arch/riscv/kvm/vcpu_onereg.c (Linux 6.12) does for the registers the
// launcher touches: the config isa register (the vCPU's single-letter
// extensions), ISA_EXT single registers (1 or 0 for an extension KVM knows,
// -ENOENT for one the host lacks), the timer's frequency, core registers by
// index (-ENOENT past the end), SBI_EXT single registers (0 or 1 before the
// first run, -ENOENT for an extension KVM lacks), and -EINVAL for a size
// other than the register's. Checked: the call sequence and argument bytes, the host-value
// checks that refuse a launch, the UART and SBI console, and how SBI system
// reset ends the run. Built for riscv64 hosts only (the launcher needs
// riscv64's asm/kvm.h); expected numbers are spelled out, not taken from
// the launcher.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <linux/kvm.h>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "cove_images.hpp"
#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "fake_kvm.hpp"
#include "plan_loads.hpp"
#include "seam_launch.hpp"
#include "seam_recorder.hpp"

using namespace cvm;
using cvmtest::FakeKvm;
using cvmtest::RecordingSeam;

namespace {

// Documentation/virt/kvm/api.rst, "RISC-V registers".
constexpr std::uint64_t kRegPc = 0x8030000002000000ull;
constexpr std::uint64_t kRegA0 = 0x803000000200000aull;
constexpr std::uint64_t kRegA1 = 0x803000000200000bull;
constexpr std::uint64_t kRegConfigIsa = 0x8030000001000000ull;
constexpr std::uint64_t kRegTimerFrequency = 0x8030000004000000ull;
constexpr std::uint64_t kRegIsaExtSstc = 0x8030000007000008ull;  // KVM_RISCV_ISA_EXT_SSTC = 8
constexpr std::uint64_t kRegSbiExtDbcn = 0x8030000008000009ull;  // KVM_RISCV_SBI_EXT_DBCN = 9 (Linux 6.8)
constexpr long kCapOneReg = 70;
constexpr unsigned long kGetOneReg = 0x4010aeab;  // _IOW(KVMIO, 0xab, struct kvm_one_reg)
constexpr unsigned long kSetOneReg = 0x4010aeac;  // _IOW(KVMIO, 0xac, struct kvm_one_reg)
static_assert(kGetOneReg == KVM_GET_ONE_REG && kSetOneReg == KVM_SET_ONE_REG);
constexpr std::uint64_t kUart = 0x10000000;

LaunchPlan plan_for(std::map<std::string, std::string> options = {}) {
    VmSpec spec;
    spec.memory.size = 256ull << 20;
    spec.vcpus.count = 2;
    spec.cmdline = "console=ttyS0";
    spec.options = std::move(options);
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(covetest::riscv_image(), "Image"), true, {}});
    spec.images.push_back({ImageRole::initrd, Payload::from_bytes(covetest::pattern(5000, 3), "initrd"), true, {}});
    return find_backend("plain").build_plan(spec);
}

// The host: a vCPU with rv64imafdc (+h, which KVM hides), Sstc, a 10 MHz
// timebase; vCPU 0 powers off through SBI SRST unless a test scripts more.
class FakeRiscv final : public KvmSeam {
public:
    FakeRiscv() { fake.script({system_event(KVM_SYSTEM_EVENT_SHUTDOWN)}); }
    int open(const char* p, int f) override { return fake.open(p, f); }
    int mmap(void** o, std::size_t l, int p, int f, int fd, off_t off) override { return fake.mmap(o, l, p, f, fd, off); }
    int ioctl(int fd, unsigned long request, void* arg) override {
        if (request == KVM_GET_ONE_REG || request == KVM_SET_ONE_REG) {
            std::lock_guard lock(mutex);
            return one_reg(fd, request == KVM_SET_ONE_REG, *static_cast<kvm_one_reg*>(arg));
        }
        return fake.ioctl(fd, request, arg);
    }

    static FakeKvm::Exit system_event(std::uint32_t type) {
        return [=](kvm_run& run) {
            run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
            run.system_event.type = type;
        };
    }

    FakeKvm fake;
    std::mutex mutex;
    std::uint64_t isa_letters = 0;  // set in the constructor body below
    std::map<std::uint64_t, std::uint64_t> isa_ext{{8, 1}};  // SSTC only: the others are -ENOENT
    std::uint64_t timebase = 10000000;
    bool has_dbcn = true;
    std::vector<std::pair<int, std::uint64_t>> sbi_ext_set;  // (fd, id) turned on
    std::vector<std::pair<std::uint64_t, std::uint64_t>> set;  // core registers written

private:
    int one_reg(int fd, bool write, kvm_one_reg& reg) {
        const std::uint64_t size = 1ull << ((reg.id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
        const std::uint64_t type = reg.id & KVM_REG_RISCV_TYPE_MASK;
        const std::uint64_t index = reg.id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK | KVM_REG_RISCV_TYPE_MASK);
        if ((reg.id & KVM_REG_ARCH_MASK) != KVM_REG_RISCV) return -EINVAL;
        if (size != 8) return -EINVAL;  // every register here is an unsigned long or a __u64
        auto* value = reinterpret_cast<std::uint64_t*>(reg.addr);
        switch (type) {
        case KVM_REG_RISCV_CONFIG:
            if (index != 0 || write) return -EINVAL;  // only reads of isa here
            *value = isa_letters;
            return 0;
        case KVM_REG_RISCV_ISA_EXT: {
            auto it = isa_ext.find(index);
            if (it == isa_ext.end() || write) return -ENOENT;
            *value = it->second;
            return 0;
        }
        case KVM_REG_RISCV_TIMER:
            if (index != 0 || write) return -EINVAL;  // frequency is read-only
            *value = timebase;
            return 0;
        case 0x08ull << KVM_REG_RISCV_TYPE_SHIFT:  // KVM_REG_RISCV_SBI_EXT, single
            if (index != 9 || !has_dbcn) return -ENOENT;
            if (!write) return -EINVAL;
            if (*value > 1) return -EINVAL;
            if (*value == 1) sbi_ext_set.emplace_back(fd, reg.id);
            return 0;
        case KVM_REG_RISCV_CORE:
            if (index >= 33) return -ENOENT;  // struct kvm_riscv_core: 32 regs and mode
            if (!write) return -EINVAL;
            set.emplace_back(reg.id, *value);
            return 0;
        default: return -ENOENT;
        }
    }
};

std::uint64_t letters(const char* s) {
    std::uint64_t bits = 0;
    for (; *s; ++s) bits |= 1ull << (*s - 'a');
    return bits;
}

std::string hex(unsigned long v) { return fmt::format("{:#x}", v); }

template <class T> T arg_as(const cvmtest::RecordedCall& c) {
    T value{};
    std::memcpy(&value, c.arg.data(), std::min(sizeof value, c.arg.size()));
    return value;
}

TEST(PlainRiscv64LaunchSeam, IoctlSequenceAndArguments) {
    FakeRiscv kvm;
    kvm.isa_letters = letters("imafdch");
    RecordingSeam seam(kvm);
    seam.record_runs(false);
    auto plan = plan_for({{"isa", "rv64imafdc_sstc"}});
    auto result = cvmtest::launch_through(seam, plan);
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;

    std::vector<std::string> expected{
        "open /dev/kvm",
        "kvm KVM_GET_API_VERSION",
        "kvm KVM_GET_VCPU_MMAP_SIZE",
        "kvm KVM_CHECK_EXTENSION",  // ONE_REG
        "kvm KVM_CREATE_VM",
        "vm KVM_SET_USER_MEMORY_REGION",
        "vm KVM_CREATE_VCPU", "mmap vcpu0",
        "vm KVM_CREATE_VCPU", "mmap vcpu1",
        "vcpu0 " + hex(kGetOneReg),  // config isa
        "vcpu0 " + hex(kGetOneReg),  // isa-ext sstc
        "vcpu0 " + hex(kGetOneReg),  // timer frequency
        "vcpu0 " + hex(kSetOneReg), "vcpu1 " + hex(kSetOneReg),  // SBI DBCN on
        "vcpu0 " + hex(kSetOneReg), "vcpu0 " + hex(kSetOneReg), "vcpu0 " + hex(kSetOneReg),  // pc, a0, a1
    };
    auto got = seam.summary();
    while (!got.empty() && got.back().find("KVM_RUN") != std::string::npos) got.pop_back();
    EXPECT_EQ(got, expected);

    auto calls = seam.calls();
    auto nth = [&](unsigned long request, std::size_t n) -> const cvmtest::RecordedCall& {
        for (const auto& c : calls)
            if (c.request == request && n-- == 0) return c;
        throw std::runtime_error("missing call " + hex(request));
    };
    EXPECT_EQ(arg_as<long>(nth(KVM_CHECK_EXTENSION, 0)), kCapOneReg);
    EXPECT_EQ(arg_as<std::uint64_t>(nth(KVM_CREATE_VM, 0)), 0u);  // the default machine type
    auto region = arg_as<kvm_userspace_memory_region>(nth(KVM_SET_USER_MEMORY_REGION, 0));
    EXPECT_EQ(region.slot, 0u);
    EXPECT_EQ(region.guest_phys_addr, 0x80000000u);
    EXPECT_EQ(region.memory_size, 256ull << 20);
    EXPECT_EQ(arg_as<kvm_one_reg>(nth(kGetOneReg, 0)).id, kRegConfigIsa);
    EXPECT_EQ(arg_as<kvm_one_reg>(nth(kGetOneReg, 1)).id, kRegIsaExtSstc);
    EXPECT_EQ(arg_as<kvm_one_reg>(nth(kGetOneReg, 2)).id, kRegTimerFrequency);

    // pc at the kernel, a0 the boot hart, a1 the DTB the plan loads.
    auto l = cvmtest::loads(plan);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> registers{
        {kRegPc, 0x80200000}, {kRegA0, 0}, {kRegA1, l["fdt"]->gpa}};
    EXPECT_EQ(kvm.set, registers);
    ASSERT_EQ(kvm.sbi_ext_set.size(), 2u);
    EXPECT_EQ(kvm.sbi_ext_set[0].second, kRegSbiExtDbcn);
    EXPECT_NE(kvm.sbi_ext_set[0].first, kvm.sbi_ext_set[1].first);  // one per vCPU
}

TEST(PlainRiscv64LaunchSeam, AKvmWithoutTheDebugConsoleStillLaunches) {
    FakeRiscv kvm;
    kvm.isa_letters = letters("imafdc");
    kvm.has_dbcn = false;  // Linux before 6.8
    auto result = cvmtest::launch_through(kvm, plan_for());
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_TRUE(kvm.sbi_ext_set.empty());
}

TEST(PlainRiscv64LaunchSeam, AHostThatDiffersFromTheDtbIsRefused) {
    auto refusal = [](FakeRiscv& kvm, std::map<std::string, std::string> options) {
        try {
            cvmtest::launch_through(kvm, plan_for(std::move(options)));
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("<launched>");
    };
    {
        FakeRiscv kvm;
        kvm.isa_letters = letters("imafc");  // no D
        auto why = refusal(kvm, {});
        EXPECT_NE(why.find("declares 'd'"), std::string::npos) << why;
        EXPECT_NE(why.find("option isa"), std::string::npos) << why;
    }
    {
        FakeRiscv kvm;
        kvm.isa_letters = letters("imafdc");
        kvm.isa_ext.clear();  // a host without Sstc: KVM says -ENOENT
        auto why = refusal(kvm, {{"isa", "rv64imafdc_sstc"}});
        EXPECT_NE(why.find("declares _sstc, which this host does not have"), std::string::npos) << why;
    }
    {
        FakeRiscv kvm;
        kvm.isa_letters = letters("imafdc");
        kvm.isa_ext[8] = 0;  // known but disabled for this vCPU
        auto why = refusal(kvm, {{"isa", "rv64imafdc_sstc"}});
        EXPECT_NE(why.find("declares _sstc"), std::string::npos) << why;
    }
    {
        FakeRiscv kvm;
        kvm.isa_letters = letters("imafdc");
        kvm.timebase = 4000000;
        auto why = refusal(kvm, {});
        EXPECT_NE(why.find("timebase-frequency=4000000"), std::string::npos) << why;
    }
}

TEST(PlainRiscv64LaunchSeam, ConsoleAndSbi) {
    FakeRiscv kvm;
    kvm.isa_letters = letters("imafdc");
    unsigned long unknown_ret = 0;
    std::pair<unsigned long, unsigned long> written, outside;
    kvm.fake.script({
        [](kvm_run& run) {  // "H" to the UART's transmit register
            run.exit_reason = KVM_EXIT_MMIO;
            run.mmio.phys_addr = kUart;
            run.mmio.len = 1;
            run.mmio.is_write = 1;
            run.mmio.data[0] = 'H';
        },
        [](kvm_run& run) {  // "i" through the legacy SBI console
            run.exit_reason = KVM_EXIT_RISCV_SBI;
            run.riscv_sbi.extension_id = 0x01;
            run.riscv_sbi.function_id = 0;
            run.riscv_sbi.args[0] = 'i';
        },
        [](kvm_run& run) {  // a vendor extension nothing implements
            run.exit_reason = KVM_EXIT_RISCV_SBI;
            run.riscv_sbi.extension_id = 0x09000000;
            run.riscv_sbi.ret[0] = 0;
        },
        [&unknown_ret](kvm_run& run) {  // what the previous call returned; "!" through DBCN write_byte
            unknown_ret = run.riscv_sbi.ret[0];
            run.exit_reason = KVM_EXIT_RISCV_SBI;
            run.riscv_sbi.extension_id = 0x4442434E;
            run.riscv_sbi.function_id = 2;
            run.riscv_sbi.args[0] = '!';
        },
        [](kvm_run& run) {  // DBCN write of the kernel header's "RISC" (file offset 48)
            run.riscv_sbi.function_id = 0;
            run.riscv_sbi.args[0] = 4;
            run.riscv_sbi.args[1] = 0x80200000 + 48;
            run.riscv_sbi.args[2] = 0;
        },
        [&written](kvm_run& run) {  // its answer; then a buffer outside RAM
            written = {run.riscv_sbi.ret[0], run.riscv_sbi.ret[1]};
            run.riscv_sbi.args[0] = 16;
            run.riscv_sbi.args[1] = 0x1000;
        },
        [&outside](kvm_run& run) {  // its answer, then SRST reset
            outside = {run.riscv_sbi.ret[0], run.riscv_sbi.ret[1]};
            run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
            run.system_event.type = KVM_SYSTEM_EVENT_RESET;
        },
    });
    cvmtest::ConsoleCapture console;
    auto result = cvmtest::launch_through(kvm, plan_for(), console.fd);
    EXPECT_EQ(result.reason, ExitReason::reset) << result.detail;
    EXPECT_EQ(console.text(), "Hi!RISC");
    EXPECT_EQ(static_cast<long>(unknown_ret), -2);  // SBI_ERR_NOT_SUPPORTED
    EXPECT_EQ(written, (std::pair<unsigned long, unsigned long>{0, 4}));
    EXPECT_EQ(static_cast<long>(outside.first), -3);  // SBI_ERR_INVALID_PARAM
    EXPECT_EQ(outside.second, 0u);
}

} // namespace
