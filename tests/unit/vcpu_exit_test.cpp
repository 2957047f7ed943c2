// The core exit path, once for every launcher: kvm_run as the kernel fills
// it (field by field from include/uapi/linux/kvm.h, the memory-fault record
// at its Linux 6.8 offset), decoded into typed exits, and each kind's fate
// in dispatch_exit; PrivateMemory's slots and conversions through a seam.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <poll.h>
#include <pthread.h>
#include <stdexcept>
#include <cstring>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <vector>

#include "cvm/error.hpp"
#include "fake_kvm.hpp"
#include "libcvm/kvm/guest_memfd_uapi.hpp"
#include "libcvm/kvm/private_memory.hpp"
#include "libcvm/kvm/vcpu_exit.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"

namespace {

using namespace cvm;
using cvmtest::FakeKvm;

// A zeroed kvm_run with room for port I/O data after it, as KVM maps it.
struct RunPage {
    alignas(8) std::uint8_t bytes[FakeKvm::kRunSize] = {};
    kvm_run& run() { return *reinterpret_cast<kvm_run*>(bytes); }
};

// The memory_fault member of the Linux 6.8 union (flags, gpa, size), written
// at byte 32 of kvm_run: the union's offset in every kernel since 2.6.
void write_memory_fault(RunPage& page, std::uint64_t flags, std::uint64_t gpa, std::uint64_t size) {
    page.run().exit_reason = 39;
    std::uint64_t record[3] = {flags, gpa, size};
    std::memcpy(page.bytes + 32, record, sizeof record);
}

TEST(VcpuExitDecode, PortIoPointsAtTheDataKvmLeftInThePage) {
    RunPage page;
    auto& run = page.run();
    run.exit_reason = KVM_EXIT_IO;
    run.io.direction = KVM_EXIT_IO_OUT;
    run.io.size = 2;
    run.io.port = 0x3f8;
    run.io.count = 3;
    run.io.data_offset = 4096;
    const std::uint8_t data[6] = {1, 2, 3, 4, 5, 6};
    std::memcpy(page.bytes + 4096, data, sizeof data);
    auto exit = exits::decode(run, 0);
    ASSERT_TRUE(exit);
    auto* io = std::get_if<exits::PortIo>(&*exit);
    ASSERT_NE(io, nullptr);
    EXPECT_TRUE(io->write);
    EXPECT_EQ(io->port, 0x3f8);
    EXPECT_EQ(io->count, 3u);
    EXPECT_EQ(io->access(2)[0], 5);
    EXPECT_EQ(io->access(2).data(), page.bytes + 4096 + 4);
}

TEST(VcpuExitDecode, MmioLengthIsCappedAtTheDataArray) {
    RunPage page;
    auto& run = page.run();
    run.exit_reason = KVM_EXIT_MMIO;
    run.mmio.phys_addr = 0x9000000;
    run.mmio.len = 200;  // a corrupt length must not reach past data[8]
    run.mmio.is_write = 0;
    auto exit = exits::decode(run, 0);
    auto* mmio = std::get_if<exits::Mmio>(&*exit);
    ASSERT_NE(mmio, nullptr);
    EXPECT_EQ(mmio->data.size(), 8u);
    EXPECT_EQ(mmio->data.data(), run.mmio.data);
    EXPECT_FALSE(mmio->write);
}

TEST(VcpuExitDecode, HypercallAndSbiAnswersLandInKvmRun) {
    RunPage page;
    auto& run = page.run();
    run.exit_reason = KVM_EXIT_HYPERCALL;
    run.hypercall.nr = 12;
    run.hypercall.args[2] = 0x10;
    auto exit = exits::decode(run, 0);
    auto* call = std::get_if<exits::Hypercall>(&*exit);
    ASSERT_NE(call, nullptr);
    EXPECT_EQ(call->nr, 12u);
    EXPECT_EQ(call->args[2], 0x10u);
    *call->ret = 7;
    EXPECT_EQ(run.hypercall.ret, 7u);

    run.exit_reason = KVM_EXIT_RISCV_SBI;
    run.riscv_sbi.extension_id = 0x1;
    run.riscv_sbi.args[0] = 'k';
    exit = exits::decode(run, 0);
    auto* sbi = std::get_if<exits::RiscvSbi>(&*exit);
    ASSERT_NE(sbi, nullptr);
    EXPECT_EQ(sbi->extension, 1u);
    EXPECT_EQ(sbi->args[0], static_cast<unsigned long>('k'));
    sbi->ret[1] = 9;
    EXPECT_EQ(run.riscv_sbi.ret[1], 9u);
}

TEST(VcpuExitDecode, MemoryFaultComesWithEfault) {
    RunPage page;
    write_memory_fault(page, 1ull << 3, 0x80200000, 0x2000);
    auto exit = exits::decode(page.run(), -EFAULT);
    ASSERT_TRUE(exit);
    auto* fault = std::get_if<exits::MemoryFault>(&*exit);
    ASSERT_NE(fault, nullptr);
    EXPECT_EQ(fault->gpa, 0x80200000u);
    EXPECT_EQ(fault->size, 0x2000u);
    EXPECT_TRUE(fault->to_private);
    write_memory_fault(page, 0, 0x1000, 0x1000);
    exit = exits::decode(page.run(), -EFAULT);
    EXPECT_FALSE(std::get<exits::MemoryFault>(*exit).to_private);
}

TEST(VcpuExitDecode, OtherErrorsAreNotExits) {
    RunPage page;
    page.run().exit_reason = KVM_EXIT_MMIO;  // stale from the previous exit
    EXPECT_FALSE(exits::decode(page.run(), -EFAULT));
    EXPECT_FALSE(exits::decode(page.run(), -EINVAL));
}

TEST(VcpuExitDecode, UnknownReasonIsKept) {
    RunPage page;
    page.run().exit_reason = 1000;
    auto exit = exits::decode(page.run(), 0);
    ASSERT_TRUE(std::holds_alternative<exits::Unknown>(*exit));
    EXPECT_EQ(std::get<exits::Unknown>(*exit).reason, 1000u);
}

// A vCPU handle through the fake, for the id dispatch_exit reports.
struct OneVcpu {
    FakeKvm fake;
    KvmSystem kvm{fake, "/dev/kvm"};
    Vm vm = kvm.create_vm();
    Vcpu vcpu = vm.create_vcpu(3);
};

struct RecordingHandler final : ExitHandler {
    std::vector<std::size_t> seen;  // variant index of each device exit
    bool answer = true;
    std::optional<StopRequest> on_exit(const Vcpu& vcpu, exits::DeviceExit& exit) override {
        seen.push_back(exit.index());
        if (!answer) return unhandled(vcpu, exit);
        return std::nullopt;
    }
};

struct RecordingConverter final : MemoryConverter {
    std::vector<std::tuple<std::uint64_t, std::uint64_t, bool>> calls;
    void convert(std::uint64_t gpa, std::uint64_t size, bool to_private) override {
        calls.emplace_back(gpa, size, to_private);
    }
};

std::optional<StopRequest> dispatch(OneVcpu& v, exits::VcpuExit exit, ExitHandler& handler,
                                    MemoryConverter* converter = nullptr) {
    return dispatch_exit(v.vcpu, exit, handler, converter);
}

TEST(VcpuExitDispatch, DeviceExitsGoToTheHandlerOnly) {
    OneVcpu v;
    RecordingHandler handler;
    std::uint8_t byte = 0;
    EXPECT_FALSE(dispatch(v, exits::PortIo{0x3f8, true, 1, 1, &byte}, handler));
    EXPECT_FALSE(dispatch(v, exits::Mmio{0x1000, false, {&byte, 1}}, handler));
    EXPECT_EQ(handler.seen, (std::vector<std::size_t>{0, 1}));
    handler.answer = false;
    auto stop = dispatch(v, exits::Mmio{0x1000, false, {&byte, 1}}, handler);
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->reason, ExitReason::emulation_failure);
    EXPECT_NE(stop->detail.find("MMIO read of 1 bytes at 0x1000"), std::string::npos) << stop->detail;
    EXPECT_NE(stop->detail.find("vCPU 3"), std::string::npos) << stop->detail;
}

TEST(VcpuExitDispatch, SystemEventsEndTheRunTheSameForEveryMachine) {
    OneVcpu v;
    RecordingHandler handler;
    const std::map<std::uint32_t, ExitReason> expected = {
        {KVM_SYSTEM_EVENT_SHUTDOWN, ExitReason::power_off},
        {KVM_SYSTEM_EVENT_RESET, ExitReason::reset},
        {KVM_SYSTEM_EVENT_CRASH, ExitReason::emulation_failure},
        {6, ExitReason::emulation_failure},  // KVM_SYSTEM_EVENT_SEV_TERM
        {77, ExitReason::emulation_failure},
    };
    for (auto [type, reason] : expected) {
        auto stop = dispatch(v, exits::SystemEvent{type}, handler);
        ASSERT_TRUE(stop) << type;
        EXPECT_EQ(stop->reason, reason) << type;
    }
    EXPECT_NE(dispatch(v, exits::SystemEvent{6}, handler)->detail.find("GHCB termination"), std::string::npos);
    EXPECT_TRUE(handler.seen.empty());
}

TEST(VcpuExitDispatch, FatalExitsNameWhatHappened) {
    OneVcpu v;
    RecordingHandler handler;
    EXPECT_EQ(dispatch(v, exits::Shutdown{}, handler)->reason, ExitReason::triple_fault);
    auto halt = dispatch(v, exits::Halt{}, handler);
    EXPECT_EQ(halt->reason, ExitReason::emulation_failure);
    auto entry = dispatch(v, exits::FailEntry{0x21}, handler);
    EXPECT_NE(entry->detail.find("0x21"), std::string::npos) << entry->detail;
    auto internal = dispatch(v, exits::InternalError{KVM_INTERNAL_ERROR_EMULATION}, handler);
    EXPECT_NE(internal->detail.find("instruction emulation failed"), std::string::npos) << internal->detail;
    auto unknown = dispatch(v, exits::Unknown{1000}, handler);
    EXPECT_NE(unknown->detail.find("exit reason 1000"), std::string::npos) << unknown->detail;
    EXPECT_TRUE(handler.seen.empty());
}

TEST(VcpuExitDispatch, MemoryFaultIsConvertedAndTheVcpuReenters) {
    OneVcpu v;
    RecordingHandler handler;
    RecordingConverter converter;
    EXPECT_FALSE(dispatch(v, exits::MemoryFault{0x80000000, 0x1000, false}, handler, &converter));
    ASSERT_EQ(converter.calls.size(), 1u);
    EXPECT_EQ(converter.calls[0], std::make_tuple(std::uint64_t{0x80000000}, std::uint64_t{0x1000}, false));
    // A machine without private memory cannot answer it.
    auto stop = dispatch(v, exits::MemoryFault{0x80000000, 0x1000, true}, handler, nullptr);
    ASSERT_TRUE(stop);
    EXPECT_NE(stop->detail.find("no private memory"), std::string::npos) << stop->detail;
}

// PrivateMemory through the seam: the guest_memfd slot and attribute
// ioctls, with the argument bytes they carry, and what a conversion frees.
struct PrivateMemoryKvm {
    FakeKvm fake;
    std::vector<guest_memfd_uapi::UserspaceMemoryRegion2> slots;
    std::vector<guest_memfd_uapi::MemoryAttributes> attributes;
    std::vector<int> memfds;
    int memory_attributes_cap = 1 << 3;

    PrivateMemoryKvm() {
        fake.on_other = [this](int, unsigned long request, void* arg) -> int {
            if (request == guest_memfd_uapi::kCreateGuestMemfd) {
                auto* create = static_cast<guest_memfd_uapi::CreateGuestMemfd*>(arg);
                int fd = memfd_create("guest_memfd", MFD_CLOEXEC);
                if (fd < 0 || ftruncate(fd, static_cast<off_t>(create->size)) != 0) return -errno;
                memfds.push_back(fd);
                return fd;
            }
            if (request == guest_memfd_uapi::kSetUserMemoryRegion2) slots.push_back(*static_cast<guest_memfd_uapi::UserspaceMemoryRegion2*>(arg));
            if (request == guest_memfd_uapi::kSetMemoryAttributes) attributes.push_back(*static_cast<guest_memfd_uapi::MemoryAttributes*>(arg));
            return 0;
        };
    }
};

TEST(PrivateMemory, RefusesAKernelWithoutThePrivateAttribute) {
    PrivateMemoryKvm k;
    KvmSystem kvm(k.fake, "/dev/kvm");
    Vm vm = kvm.create_vm();
    GuestMemory shared;
    // FakeKvm answers KVM_CAP_MEMORY_ATTRIBUTES with the private bit; a
    // kernel (or a VM type) without private memory answers 0.
    struct NoAttributes final : KvmSeam {
        KvmSeam& inner;
        explicit NoAttributes(KvmSeam& s) : inner(s) {}
        int open(const char* p, int f) override { return inner.open(p, f); }
        int mmap(void** o, std::size_t l, int p, int f, int fd, off_t off) override { return inner.mmap(o, l, p, f, fd, off); }
        int ioctl(int fd, unsigned long request, void* arg) override {
            if (request == KVM_CHECK_EXTENSION && reinterpret_cast<std::uintptr_t>(arg) == 233) return 0;
            return inner.ioctl(fd, request, arg);
        }
    } seam(k.fake);
    KvmSystem kvm2(seam, "/dev/kvm");
    Vm vm2 = kvm2.create_vm();
    EXPECT_THROW((PrivateMemory{vm2, shared}), Error);
    EXPECT_NO_THROW((PrivateMemory{vm, shared}));
}

TEST(PrivateMemory, SlotsAreGuestMemfdBackedAndConversionsFreeTheOldSide) {
    PrivateMemoryKvm k;
    KvmSystem kvm(k.fake, "/dev/kvm");
    Vm vm = kvm.create_vm();
    GuestMemory shared;
    PrivateMemory memory(vm, shared);
    memory.add(0x80000000, 0x10000, true);
    memory.add(0x90000000, 0x4000, false);
    ASSERT_EQ(k.slots.size(), 2u);
    EXPECT_EQ(k.slots[0].slot, 0u);
    EXPECT_EQ(k.slots[1].slot, 1u);
    EXPECT_EQ(k.slots[0].flags, guest_memfd_uapi::kMemGuestMemfd);
    EXPECT_EQ(k.slots[0].guest_phys_addr, 0x80000000u);
    EXPECT_EQ(k.slots[0].memory_size, 0x10000u);
    EXPECT_EQ(k.slots[0].guest_memfd, static_cast<std::uint32_t>(k.memfds[0]));
    EXPECT_EQ(k.slots[0].userspace_addr, reinterpret_cast<std::uint64_t>(shared.at(0x80000000, 1).data()));
    ASSERT_EQ(k.attributes.size(), 1u);  // only the slot asked to start private
    EXPECT_EQ(k.attributes[0].address, 0x80000000u);
    EXPECT_EQ(k.attributes[0].size, 0x10000u);
    EXPECT_EQ(k.attributes[0].attributes, guest_memfd_uapi::kMemoryAttributePrivate);

    // To shared: the private pages are punched out of the guest_memfd.
    const std::uint8_t secret = 0x5a;
    ASSERT_EQ(pwrite(k.memfds[0], &secret, 1, 0x2000), 1);
    memory.convert(0x80002000, 0x1000, false);
    EXPECT_EQ(k.attributes.back().attributes, 0u);
    EXPECT_EQ(k.attributes.back().address, 0x80002000u);
    std::uint8_t back = 0xff;
    ASSERT_EQ(pread(k.memfds[0], &back, 1, 0x2000), 1);
    EXPECT_EQ(back, 0);
    // To private: the shared copy is dropped.
    shared.at(0x90001000, 1)[0] = 0x77;
    memory.convert(0x90001000, 0x1000, true);
    EXPECT_EQ(k.attributes.back().attributes, guest_memfd_uapi::kMemoryAttributePrivate);
    EXPECT_EQ(shared.at(0x90001000, 1)[0], 0);
    // Ranges outside a slot or not page-sized are the guest's error, named.
    EXPECT_THROW(memory.convert(0x90003000, 0x2000, true), Error);
    EXPECT_THROW(memory.convert(0x80000800, 0x1000, true), Error);
    EXPECT_THROW(memory.convert(0x80000000, 0, true), Error);
}

} // namespace

namespace {

// The runner's stop conditions other than exits: a vCPU that never exits
// (FakeKvm's vCPUs other than 0 wait in KVM_RUN until interrupted) ends at
// the caller's poll or at the timeout.
struct NeverExits {
    FakeKvm fake;
    KvmSystem kvm{fake, "/dev/kvm"};
    Vm vm = kvm.create_vm();
    Vcpu boot = vm.create_vcpu(0);
    std::vector<Vcpu> vcpus;
    RecordingHandler handler;
    NeverExits() { vcpus.push_back(vm.create_vcpu(1)); }
};

TEST(VcpuRunnerStops, WhenTheCallersPollSaysSo) {
    NeverExits m;
    VcpuRunner runner(m.vcpus, m.handler);
    int polls = 0;
    RunResult result = runner.run(std::chrono::milliseconds(0), [&polls] { return ++polls == 3; });
    EXPECT_EQ(result.reason, ExitReason::interrupted) << result.detail;
    EXPECT_EQ(polls, 3);
}

TEST(VcpuRunnerStops, AtTheTimeoutWhenThePollNeverFires) {
    NeverExits m;
    VcpuRunner runner(m.vcpus, m.handler);
    int polls = 0;
    RunResult result = runner.run(std::chrono::milliseconds(100), [&polls] { ++polls; return false; });
    EXPECT_EQ(result.reason, ExitReason::timeout) << result.detail;
    EXPECT_GE(polls, 1);
}

TEST(VcpuRunnerStops, WhenThePollThrows) {
    NeverExits m;
    VcpuRunner runner(m.vcpus, m.handler);
    RunResult result = runner.run(std::chrono::milliseconds(0), []() -> bool { throw std::runtime_error("poll"); });
    EXPECT_EQ(result.reason, ExitReason::interrupted) << result.detail;
}

// A caller that blocks the kick signal (as signalfd users do) still gets
// its vCPU threads back: they unblock it in their own mask. The seam's
// KVM_RUN sleeps as the kernel's does, until a signal is delivered to the
// thread (or 3 s pass), so a thread that kept the caller's mask would take
// the full 3 s to notice the stop.
struct SignalWaitingRun final : KvmSeam {
    FakeKvm fake;
    int open(const char* p, int f) override { return fake.open(p, f); }
    int mmap(void** o, std::size_t l, int p, int f, int fd, off_t off) override { return fake.mmap(o, l, p, f, fd, off); }
    int ioctl(int fd, unsigned long request, void* arg) override {
        if (request != KVM_RUN) return fake.ioctl(fd, request, arg);
        timespec limit{3, 0};
        return ::ppoll(nullptr, 0, &limit, nullptr) < 0 ? -errno : -EINTR;
    }
};

TEST(VcpuRunnerStops, WhenTheCallerBlocksTheKickSignal) {
    SignalWaitingRun seam;
    KvmSystem kvm(seam, "/dev/kvm");
    Vm vm = kvm.create_vm();
    std::vector<Vcpu> vcpus;
    vcpus.push_back(vm.create_vcpu(0));
    RecordingHandler handler;
    VcpuRunner runner(vcpus, handler);
    sigset_t kick, old;
    sigemptyset(&kick);
    sigaddset(&kick, SIGUSR2);
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &kick, &old), 0);
    const auto start = std::chrono::steady_clock::now();
    RunResult result = runner.run(std::chrono::milliseconds(50));
    const auto took = std::chrono::steady_clock::now() - start;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    EXPECT_EQ(result.reason, ExitReason::timeout) << result.detail;
    EXPECT_LT(took, std::chrono::milliseconds(2000)) << "the vCPU thread did not see the kick signal";
}

} // namespace
