// Launching a plan through a test's KvmSeam, and capturing what the guest
// writes to its console: the same few lines every launcher's seam test needs.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "cvm/backend.hpp"
#include "cvm/plan.hpp"

namespace cvmtest {

// The guest console in a memfd, read back whole after the run.
struct ConsoleCapture {
    int fd = memfd_create("console", MFD_CLOEXEC);

    ConsoleCapture() = default;
    ConsoleCapture(const ConsoleCapture&) = delete;
    ConsoleCapture& operator=(const ConsoleCapture&) = delete;
    ~ConsoleCapture() {
        if (fd >= 0) close(fd);
    }
    std::string text() const {
        std::string out(4096, '\0');
        auto n = pread(fd, out.data(), out.size(), 0);
        out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return out;
    }
};

// The plan's own backend launches it through `seam`; no console unless one
// is given, and a limit that keeps a broken launcher from hanging the suite.
inline cvm::RunResult launch_through(cvm::KvmSeam& seam, const cvm::LaunchPlan& plan, int console_fd = -1,
                                     int timeout_ms = 5000) {
    cvm::RunOptions options;
    options.seam = &seam;
    options.console_fd = console_fd;
    options.timeout = std::chrono::milliseconds(timeout_ms);
    return cvm::find_backend(plan.technology()).launch(plan, options);
}

} // namespace cvmtest
