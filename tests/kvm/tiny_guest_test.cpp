// The tiny test guest on the host's real /dev/kvm. The guest reports what
// it found where the x86 boot protocol says to look (the zero page, the
// command line, the initrd, the ACPI MADT), and the test compares that with
// what the host gave it. Skipped, with the reason, where /dev/kvm cannot be
// opened.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <regex>
#include <sys/mman.h>
#include <unistd.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "seam_recorder.hpp"
#include "test_paths.hpp"

using namespace cvm;

namespace {

// The guest's checksum, written here from its definition (a, b over
// little-endian u64 words, last word zero-padded; a += w; b += a).
std::pair<std::uint64_t, std::uint64_t> checksum(const std::vector<std::uint8_t>& data) {
    std::uint64_t a = 0, b = 0;
    for (std::size_t at = 0; at < data.size(); at += 8) {
        std::uint64_t w = 0;
        for (std::size_t i = 0; i < 8 && at + i < data.size(); ++i) w |= std::uint64_t{data[at + i]} << (8 * i);
        a += w;
        b += a;
    }
    return {a, b};
}

std::string hex16(std::uint64_t v) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
    return text;
}

std::string kvm_unavailable() {
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return std::string("cannot open /dev/kvm: ") + std::strerror(errno);
    ::close(fd);
    return "";
}

struct GuestRun {
    RunResult result;
    std::string console;
};

GuestRun boot_tiny(unsigned vcpus, const std::vector<std::uint8_t>& initrd, const std::string& cmdline,
                   KvmSeam* seam = nullptr) {
    VmSpec spec;
    spec.memory.size = 128ull << 20;
    spec.vcpus.count = vcpus;
    spec.cmdline = cmdline;
    spec.images.push_back({ImageRole::kernel, Payload::map_file(cvmtest::tiny_bzimage_path()), true, {}});
    if (!initrd.empty()) spec.images.push_back({ImageRole::initrd, Payload::from_bytes(initrd, "initrd"), true, {}});
    const auto& plain = find_backend("plain");
    auto plan = plain.build_plan(spec);

    int console = memfd_create("console", MFD_CLOEXEC);
    RunOptions options;
    options.console_fd = console;
    options.timeout = std::chrono::seconds(30);
    options.seam = seam;
    GuestRun run;
    try {
        run.result = plain.launch(plan, options);
    } catch (...) {
        ::close(console);
        throw;
    }
    std::string text(1 << 16, '\0');
    auto n = pread(console, text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    ::close(console);
    run.console = text;
    return run;
}

class TinyGuest : public ::testing::TestWithParam<unsigned> {
protected:
    void SetUp() override {
        ASSERT_FALSE(cvmtest::tiny_bzimage_path().empty()) << "CVM_TINY_BZIMAGE is not set";
        if (auto why = kvm_unavailable(); !why.empty()) GTEST_SKIP() << why;
    }
};

TEST_P(TinyGuest, SeesEveryByteWhereTheBootProtocolSays) {
    const unsigned vcpus = GetParam();
    std::vector<std::uint8_t> initrd(3001);
    for (std::size_t i = 0; i < initrd.size(); ++i) initrd[i] = static_cast<std::uint8_t>((i * 131 + vcpus) ^ (i >> 3));
    const std::string cmdline = "console=ttyS0 tiny-test vcpus=" + std::to_string(vcpus);

    auto run = boot_tiny(vcpus, initrd, cmdline);
    ASSERT_EQ(run.result.reason, ExitReason::power_off) << run.result.detail << "\n" << run.console;

    std::vector<std::uint8_t> cmdline_bytes(cmdline.begin(), cmdline.end());
    auto [ca, cb] = checksum(cmdline_bytes);
    auto [ia, ib] = checksum(initrd);
    const auto& out = run.console;
    EXPECT_NE(out.find("tiny: boot_params=0x0000000000007000\n"), std::string::npos) << out;
    EXPECT_NE(out.find("tiny: cmdline len=" + std::to_string(cmdline.size()) + " a=" + hex16(ca) + " b=" + hex16(cb) + "\n"),
              std::string::npos) << out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("tiny: initrd addr=0x([0-9a-f]{16}) size=(\\d+) a=([0-9a-f]{16}) b=([0-9a-f]{16})")))
        << out;
    EXPECT_EQ(m[2].str(), std::to_string(initrd.size()));
    EXPECT_EQ(m[3].str(), hex16(ia));
    EXPECT_EQ(m[4].str(), hex16(ib));
    EXPECT_EQ(std::stoull(m[1].str(), nullptr, 16) % 4096, 0u);
    EXPECT_NE(out.find("tiny: e820 entries=3\n"), std::string::npos) << out;
    EXPECT_NE(out.find("tiny: cpus=" + std::to_string(vcpus) + "\n"), std::string::npos) << out;
    EXPECT_NE(out.find("tiny: done\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("tiny: error"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Vcpus, TinyGuest, ::testing::Values(1u, 2u));

TEST(TinyGuestSeam, RealKvmSequenceAndFaultsAtEverySetupCall) {
    ASSERT_FALSE(cvmtest::tiny_bzimage_path().empty());
    if (auto why = kvm_unavailable(); !why.empty()) GTEST_SKIP() << why;
    std::vector<std::uint8_t> initrd(100, 7);
    std::size_t setup_calls = 0;
    {
        cvmtest::RecordingSeam seam(system_kvm_seam());
        seam.record_runs(false);
        auto run = boot_tiny(2, initrd, "x", &seam);
        ASSERT_EQ(run.result.reason, ExitReason::power_off) << run.result.detail;
        setup_calls = seam.calls().size();
        EXPECT_EQ(seam.summary().front(), "open /dev/kvm");
        EXPECT_EQ(seam.summary().back(), "vcpu0 KVM_SET_REGS");
    }
    ASSERT_GT(setup_calls, 20u);
    auto fds_before = cvmtest::open_fd_count();
    // Every setup call, and the first KVM_RUN after them.
    for (std::size_t i = 0; i <= setup_calls; ++i) {
        cvmtest::RecordingSeam seam(system_kvm_seam());
        seam.fail_call(i, ENOMEM);
        std::string what;
        bool clean = false;
        try {
            auto run = boot_tiny(2, initrd, "x", &seam);
            clean = run.result.reason == ExitReason::emulation_failure;
            what = run.result.detail;
        } catch (const Error& e) {
            clean = e.err() == ENOMEM;
            what = e.what();
        }
        EXPECT_TRUE(clean) << "failing call " << i << ": " << what;
        EXPECT_EQ(cvmtest::open_fd_count(), fds_before) << "fd leaked after failing call " << i;
    }
}

} // namespace
