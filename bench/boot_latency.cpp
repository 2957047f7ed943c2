// Boot latency of the tiny test guest: wall time from process start to the
// guest's marker line, for cvm-launch and for QEMU's microvm on the same
// bzImage and initrd; and libcvm's own set-up time, from the start of plan
// building to the first KVM_RUN, measured in-process through the ioctl seam.
//
// Both VMMs run with kvm-run-clock preloaded, which times their KVM_RUN
// calls: the wall time splits into the time inside KVM_RUN (the guest and
// the kernel's exit handling; on kvm-pvm, whose emulated guest kernel mode
// dominates a small guest, the same work for any VMM) and the VMM's own part
// (start-up, set-up, exits handled in user space), each compared.
//
//   boot-latency --launcher build/examples/cvm-launch/cvm-launch
//                --kernel build/tests/guest/tiny/tiny-bzImage [--runs 11] [--json]
//                [--clock-lib build/bench/kvm-run-clock.so]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <optional>
#include <poll.h>
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

// What one boot took, in seconds from the spawn: to the marker, to the
// first KVM_RUN, and inside KVM_RUN calls until the marker (the last two
// from kvm-run-clock; zero without it).
struct Boot {
    double marker = 0, first_run = 0, inside = 0;
    double own() const { return marker - inside; }
};

// The layout kvm_run_clock.c writes.
struct RunClock {
    std::uint64_t first_run_ns, inside_ns, runs;
};

std::uint64_t monotonic_ns() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000000u + static_cast<std::uint64_t>(t.tv_nsec);
}

// Spawns `argv` (with `clock_lib` preloaded when given) and waits for
// kMarker on its stdout; nullopt if it never comes within the limit.
std::optional<Boot> time_to_marker(const std::vector<std::string>& argv, double limit_seconds, const std::string& clock_lib) {
    char clock_path[] = "/tmp/boot-latency-clock-XXXXXX";
    int clock_fd = mkstemp(clock_path);
    if (clock_fd < 0 || ftruncate(clock_fd, 4096) != 0) return std::nullopt;
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0 && std::strncmp(*e, "KVM_RUN_CLOCK_FILE=", 19) != 0)
            env_strings.push_back(*e);
    if (!clock_lib.empty()) {
        env_strings.push_back("LD_PRELOAD=" + clock_lib);
        env_strings.push_back(std::string("KVM_RUN_CLOCK_FILE=") + clock_path);
    }
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);

    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const std::uint64_t start_ns = monotonic_ns();
    auto start = Clock::now();
    pid_t pid;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::optional<Boot> result;
    if (rc == 0) {
        std::string seen;
        char buffer[4096];
        for (;;) {
            double left = limit_seconds - std::chrono::duration<double>(Clock::now() - start).count();
            pollfd p{out[0], POLLIN, 0};
            if (left <= 0 || poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) break;
            ssize_t n = read(out[0], buffer, sizeof buffer);
            if (n <= 0) break;
            seen.append(buffer, static_cast<std::size_t>(n));
            if (seen.find(kMarker) != std::string::npos) {
                Boot b;
                b.marker = std::chrono::duration<double>(Clock::now() - start).count();
                RunClock c{};
                if (pread(clock_fd, &c, sizeof c, 0) == static_cast<ssize_t>(sizeof c) && c.first_run_ns) {
                    b.first_run = static_cast<double>(c.first_run_ns - start_ns) * 1e-9;
                    b.inside = static_cast<double>(c.inside_ns) * 1e-9;
                }
                result = b;
                break;
            }
        }
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    close(out[0]);
    close(clock_fd);
    unlink(clock_path);
    return result;
}

// The preload library beside this executable, if it was built.
std::string default_clock_lib() {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return "";
    std::string dir(self, static_cast<std::size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    std::string lib = dir + "/kvm-run-clock.so";
    return access(lib.c_str(), R_OK) == 0 ? lib : "";
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

double median_of(const std::vector<Boot>& boots, double (*field)(const Boot&)) {
    std::vector<double> v;
    for (const auto& b : boots) v.push_back(field(b));
    return median(v);
}

} // namespace

int main(int argc, char** argv) {
    std::string launcher, kernel, qemu = "qemu-system-x86_64", clock_lib = default_clock_lib();
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
        else if (a == "--clock-lib") clock_lib = next();
        else if (a == "--json") json = true;
        else {
            fmt::print(stderr, "usage: boot-latency --launcher PATH --kernel BZIMAGE [--qemu PATH] [--runs N] [--json] "
                               "[--clock-lib PATH]\n");
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

    std::vector<Boot> ours, theirs;
    std::vector<double> setup;
    for (int r = 0; r < runs; ++r) {
        if (auto b = time_to_marker({launcher, "run", "--kernel", kernel, "--initrd", initrd, "--cmdline",
                                     "console=ttyS0", "--memory", "256M", "--timeout", "20"}, 20, clock_lib))
            ours.push_back(*b);
        if (auto b = time_to_marker({qemu, "-M", "microvm", "-enable-kvm", "-m", "256M", "-nographic", "-no-reboot",
                                     "-nodefaults", "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
                                     "-append", "console=ttyS0"}, 30, clock_lib))
            theirs.push_back(*b);
        setup.push_back(library_setup_seconds(kernel, initrd));
    }
    unlink(initrd);

    auto marker = [](const Boot& b) { return b.marker; };
    auto first_run = [](const Boot& b) { return b.first_run; };
    auto inside = [](const Boot& b) { return b.inside; };
    auto own = [](const Boot& b) { return b.own(); };
    struct Row {
        const char* name;
        double ours, qemu;
    };
    const bool clocked = !clock_lib.empty();
    std::vector<Row> rows{{"start to marker", median_of(ours, marker), median_of(theirs, marker)}};
    if (clocked) {
        rows.push_back({"start to first KVM_RUN", median_of(ours, first_run), median_of(theirs, first_run)});
        rows.push_back({"inside KVM_RUN (guest, kernel)", median_of(ours, inside), median_of(theirs, inside)});
        rows.push_back({"VMM's own (marker - inside)", median_of(ours, own), median_of(theirs, own)});
    }
    const double m_setup = median(setup);
    auto ratio = [](const Row& r) { return r.qemu > 0 ? r.ours / r.qemu : 0.0; };
    if (json) {
        fmt::print("{{\"runs\": {}, \"reached\": [{}, {}], \"library_to_first_kvm_run_median_s\": {:.6f}", runs, ours.size(),
                   theirs.size(), m_setup);
        const char* keys[] = {"marker", "first_kvm_run", "inside_kvm_run", "vmm_own"};
        for (std::size_t i = 0; i < rows.size(); ++i)
            fmt::print(", \"{}\": {{\"cvm_launch_median_s\": {:.5f}, \"qemu_microvm_median_s\": {:.5f}, \"ratio\": {:.4f}}}",
                       keys[i], rows[i].ours, rows[i].qemu, ratio(rows[i]));
        fmt::print("}}\n");
        return 0;
    }
    fmt::print("tiny guest, {} runs each: cvm-launch run reached \"{}\" {} times, qemu -M microvm -enable-kvm {} times\n",
               runs, kMarker, ours.size(), theirs.size());
    if (!clocked) fmt::print("(no kvm-run-clock.so: give --clock-lib for the split by KVM_RUN)\n");
    fmt::print("  {:<32} {:>12} {:>12} {:>7}\n", "median", "cvm-launch", "qemu", "ratio");
    for (const auto& r : rows)
        fmt::print("  {:<32} {:>9.2f} ms {:>9.2f} ms {:>7.3f}\n", r.name, r.ours * 1e3, r.qemu * 1e3, ratio(r));
    fmt::print("  target: start to marker <= 0.1\n");
    fmt::print("libcvm plan + launch to first KVM_RUN (in process), median {:.3f} ms\n", m_setup * 1e3);
    return 0;
}
