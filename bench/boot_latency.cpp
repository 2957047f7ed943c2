// Boot latency of the tiny test guest: wall time from process start to the
// guest's marker line, for cvm-launch and for QEMU's microvm on the same
// bzImage and initrd; and libcvm's own set-up time, from the start of plan
// building to the first KVM_RUN, measured in-process through the ioctl seam.
//
//   boot-latency --launcher build/examples/cvm-launch/cvm-launch
//                --kernel build/tests/guest/tiny/tiny-bzImage [--runs 11] [--json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <optional>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/kvm.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kMarker = "tiny: done";

// Seconds from spawning `argv` to `kMarker` on its stdout, or nullopt.
std::optional<double> time_to_marker(const std::vector<std::string>& argv, double limit_seconds) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    auto start = Clock::now();
    pid_t pid;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        return std::nullopt;
    }
    std::string seen;
    std::optional<double> result;
    char buffer[4096];
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    while (std::chrono::duration<double>(Clock::now() - start).count() < limit_seconds) {
        ssize_t n = read(out[0], buffer, sizeof buffer);
        if (n > 0) {
            seen.append(buffer, static_cast<std::size_t>(n));
            if (seen.find(kMarker) != std::string::npos) {
                result = std::chrono::duration<double>(Clock::now() - start).count();
                break;
            }
        } else if (n == 0) {
            break;
        } else {
            usleep(200);
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(out[0]);
    return result;
}

// Notes when the first KVM_RUN is issued, and forwards everything.
class FirstRunClock final : public cvm::KvmSeam {
public:
    int open(const char* path, int flags) override { return cvm::system_kvm_seam().open(path, flags); }
    int ioctl(int fd, unsigned long request, void* arg) override {
        if (request == KVM_RUN && !first_run) first_run = Clock::now();
        return cvm::system_kvm_seam().ioctl(fd, request, arg);
    }
    int mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) override {
        return cvm::system_kvm_seam().mmap(out, length, prot, flags, fd, offset);
    }
    std::optional<Clock::time_point> first_run;
};

double library_setup_seconds(const std::string& kernel, const std::string& initrd) {
    auto start = Clock::now();
    cvm::VmSpec spec;
    spec.memory.size = 256ull << 20;
    spec.cmdline = "console=ttyS0";
    spec.images.push_back({cvm::ImageRole::kernel, cvm::Payload::map_file(kernel), true, {}});
    spec.images.push_back({cvm::ImageRole::initrd, cvm::Payload::map_file(initrd), true, {}});
    const auto& plain = cvm::find_backend("plain");
    auto plan = plain.build_plan(spec);
    FirstRunClock clock;
    cvm::RunOptions options;
    options.seam = &clock;
    options.console_fd = -1;
    options.timeout = std::chrono::seconds(10);
    plain.launch(plan, options);
    if (!clock.first_run) throw cvm::Error("the launch never reached KVM_RUN");
    return std::chrono::duration<double>(*clock.first_run - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    std::string launcher, kernel, qemu = "qemu-system-x86_64";
    int runs = 11;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                fmt::print(stderr, "{} needs a value\n", a);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--launcher") launcher = next();
        else if (a == "--kernel") kernel = next();
        else if (a == "--qemu") qemu = next();
        else if (a == "--runs") runs = std::stoi(next());
        else if (a == "--json") json = true;
        else {
            fmt::print(stderr, "usage: boot-latency --launcher PATH --kernel BZIMAGE [--qemu PATH] [--runs N] [--json]\n");
            return 2;
        }
    }
    if (launcher.empty() || kernel.empty()) {
        fmt::print(stderr, "boot-latency: --launcher and --kernel are required\n");
        return 2;
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        fmt::print("boot-latency: skipped, /dev/kvm is not usable here\n");
        return 0;
    }

    // A 3000-byte initrd, the same for both VMMs.
    char initrd[] = "/tmp/boot-latency-initrd-XXXXXX";
    int fd = mkstemp(initrd);
    std::vector<char> bytes(3000);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 13);
    if (fd < 0 || write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) return 1;
    close(fd);

    std::vector<double> ours, theirs, setup;
    for (int r = 0; r < runs; ++r) {
        if (auto t = time_to_marker({launcher, "run", "--kernel", kernel, "--initrd", initrd, "--cmdline",
                                     "console=ttyS0", "--memory", "256M", "--timeout", "20"}, 20))
            ours.push_back(*t);
        if (auto t = time_to_marker({qemu, "-M", "microvm", "-enable-kvm", "-m", "256M", "-nographic", "-no-reboot",
                                     "-nodefaults", "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
                                     "-append", "console=ttyS0"}, 30))
            theirs.push_back(*t);
        setup.push_back(library_setup_seconds(kernel, initrd));
    }
    unlink(initrd);

    double m_ours = median(ours), m_qemu = median(theirs), m_setup = median(setup);
    if (json) {
        fmt::print("{{\"runs\": {}, \"cvm_launch_median_s\": {:.4f}, \"qemu_microvm_median_s\": {:.4f}, "
                   "\"ratio\": {:.4f}, \"library_to_first_kvm_run_median_s\": {:.6f}}}\n",
                   runs, m_ours, m_qemu, m_qemu > 0 ? m_ours / m_qemu : 0, m_setup);
        return 0;
    }
    fmt::print("tiny guest, start to \"{}\", {} runs each\n", kMarker, runs);
    fmt::print("  cvm-launch run            median {:8.1f} ms  ({} of {} reached the marker)\n", m_ours * 1e3, ours.size(), runs);
    if (theirs.empty())
        fmt::print("  qemu -M microvm           did not reach the marker (is {} installed?)\n", qemu);
    else
        fmt::print("  qemu -M microvm -enable-kvm median {:6.1f} ms  ({} of {})\n", m_qemu * 1e3, theirs.size(), runs);
    if (m_qemu > 0) fmt::print("  ratio cvm-launch / qemu   {:8.3f}  (target <= 0.1)\n", m_ours / m_qemu);
    fmt::print("libcvm plan + launch to first KVM_RUN, median {:.3f} ms\n", m_setup * 1e3);
    return 0;
}
