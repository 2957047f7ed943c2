// The C ABI's launcher on the host's real /dev/kvm: the tiny guest boots in
// a VM libcvm creates and in one the caller created, and a caller's fd that
// is not a suitable VM is refused with a reason. Skipped, with the reason,
// where /dev/kvm cannot be opened.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "cvm/cvm.h"
#include "test_paths.hpp"

namespace {

class CApiKvm : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(cvmtest::tiny_bzimage_path().empty()) << "CVM_TINY_BZIMAGE is not set";
        kvm_ = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm_ < 0) GTEST_SKIP() << "cannot open /dev/kvm: " << std::strerror(errno);
        console_ = memfd_create("console", MFD_CLOEXEC);
        ASSERT_EQ(cvm_spec_new("plain", &spec_), CVM_OK);
        ASSERT_EQ(cvm_spec_set_memory(spec_, 128ull << 20), CVM_OK);
        ASSERT_EQ(cvm_spec_set_vcpus(spec_, 2), CVM_OK);
        ASSERT_EQ(cvm_spec_set_cmdline(spec_, "console=ttyS0 capi"), CVM_OK);
        ASSERT_EQ(cvm_spec_add_image_file(spec_, CVM_IMAGE_KERNEL, cvmtest::tiny_bzimage_path().c_str(), 0, 0), CVM_OK);
        ASSERT_EQ(cvm_plan_build(spec_, &plan_), CVM_OK) << cvm_last_error();
        ASSERT_EQ(cvm_launch_new(&launch_), CVM_OK);
        ASSERT_EQ(cvm_launch_set_console_fd(launch_, console_), CVM_OK);
        ASSERT_EQ(cvm_launch_set_timeout_ms(launch_, 30000), CVM_OK);
    }
    void TearDown() override {
        cvm_launch_free(launch_);
        cvm_plan_free(plan_);
        cvm_spec_free(spec_);
        if (console_ >= 0) ::close(console_);
        if (kvm_ >= 0) ::close(kvm_);
    }
    std::string console() const {
        std::string text(1 << 16, '\0');
        auto n = pread(console_, text.data(), text.size(), 0);
        text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return text;
    }
    void expect_clean_boot() {
        ASSERT_EQ(cvm_launch_run(launch_, plan_), CVM_OK) << cvm_last_error();
        EXPECT_EQ(cvm_launch_exit_reason(launch_), CVM_EXIT_POWER_OFF) << cvm_launch_exit_detail(launch_);
        auto out = console();
        EXPECT_NE(out.find("tiny: cpus=2\n"), std::string::npos) << out;
        EXPECT_NE(out.find("tiny: done\n"), std::string::npos) << out;
        EXPECT_EQ(out.find("tiny: error"), std::string::npos) << out;
    }

    int kvm_ = -1;
    int console_ = -1;
    cvm_spec* spec_ = nullptr;
    cvm_plan* plan_ = nullptr;
    cvm_launch* launch_ = nullptr;
};

TEST_F(CApiKvm, BootsInAVmLibcvmCreates) { expect_clean_boot(); }

TEST_F(CApiKvm, BootsInTheCallersVmAndLeavesItsFdOpen) {
    int vm = ::ioctl(kvm_, KVM_CREATE_VM, 0UL);
    ASSERT_GE(vm, 0) << std::strerror(errno);
    ASSERT_EQ(cvm_launch_set_vm_fd(launch_, vm, 0), CVM_OK);
    expect_clean_boot();
    EXPECT_EQ(::fcntl(vm, F_GETFD), FD_CLOEXEC) << "the caller's fd is still open and unchanged";
    // The VM now holds the guest's state: a second launch in it is refused.
    EXPECT_NE(cvm_launch_run(launch_, plan_), CVM_OK);
    ::close(vm);
}

// A guest that never stops by itself ("tiny.stay" halts it after its
// report) is stopped by cvm_launch_interrupt from another thread.
TEST_F(CApiKvm, InterruptFromAnotherThreadStopsTheRun) {
    cvm_plan_free(plan_);
    plan_ = nullptr;
    ASSERT_EQ(cvm_spec_set_cmdline(spec_, "console=ttyS0 capi tiny.stay"), CVM_OK);
    ASSERT_EQ(cvm_plan_build(spec_, &plan_), CVM_OK) << cvm_last_error();
    std::thread interrupter([this] {
        for (int i = 0; i < 3000 && console().find("tiny: done\n") == std::string::npos; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        cvm_launch_interrupt(launch_);
    });
    ASSERT_EQ(cvm_launch_run(launch_, plan_), CVM_OK) << cvm_last_error();
    interrupter.join();
    EXPECT_EQ(cvm_launch_exit_reason(launch_), CVM_EXIT_INTERRUPTED) << cvm_launch_exit_detail(launch_);
    EXPECT_STREQ(cvm_exit_reason_name(CVM_EXIT_INTERRUPTED), "interrupted");
    EXPECT_NE(console().find("tiny: done\n"), std::string::npos) << console();
}

TEST_F(CApiKvm, RefusesACallerVmOfAnotherMachineType) {
    int vm = ::ioctl(kvm_, KVM_CREATE_VM, 0UL);
    ASSERT_GE(vm, 0);
    ASSERT_EQ(cvm_launch_set_vm_fd(launch_, vm, 1), CVM_OK);
    EXPECT_EQ(cvm_launch_run(launch_, plan_), CVM_ERR_INPUT);
    EXPECT_NE(std::string(cvm_last_error()).find("machine type 0x0"), std::string::npos) << cvm_last_error();
    ::close(vm);
}

TEST_F(CApiKvm, RefusesAnFdThatIsNotAVm) {
    int not_vm = memfd_create("not-a-vm", MFD_CLOEXEC);
    for (int fd : {not_vm, kvm_}) {
        ASSERT_EQ(cvm_launch_set_vm_fd(launch_, fd, 0), CVM_OK);
        EXPECT_EQ(cvm_launch_run(launch_, plan_), CVM_ERR_INPUT);
        EXPECT_NE(std::string(cvm_last_error()).find("is not a KVM VM fd"), std::string::npos) << cvm_last_error();
    }
    ::close(not_vm);
}

} // namespace
