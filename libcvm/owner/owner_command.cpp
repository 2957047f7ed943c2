#include "cvm/owner_channel.hpp"

#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cvm/error.hpp"

extern char** environ;

namespace cvm {
namespace {

// One end of a pipe, closed when it goes out of scope or on reset().
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

struct Pipe {
    Fd read, write;
    Pipe() : Pipe(make()) {}

private:
    struct Ends { int r, w; };
    explicit Pipe(Ends e) : read(e.r), write(e.w) {}
    static Ends make() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw cvm::Error("cannot create a pipe for the owner command", errno);
        return {fds[0], fds[1]};
    }
};

std::string describe(int status) {
    if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
    return "an unknown end";
}

std::string run_once(const std::string& command, std::chrono::milliseconds timeout, const std::string& request) {
    Pipe to_child, from_child;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child.read.get(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, from_child.write.get(), STDOUT_FILENO);
    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    pid_t pid = 0;
    int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw cvm::Error("cannot start the owner command", rc, command);
    to_child.read.reset();
    from_child.write.reset();

    // A command that exits before reading its request must not kill
    // cvm-launch with SIGPIPE: the write fails with EPIPE instead.
    struct sigaction ignore {}, previous {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &previous);
    std::string reply, failure;
    try {
        reply = cvm::owner_over_fds(from_child.read.get(), to_child.write.get(), timeout)(request);
    } catch (const cvm::Error& e) {
        failure = e.what();
    }
    ::sigaction(SIGPIPE, &previous, nullptr);
    to_child.write.reset();
    from_child.read.reset();
    if (!failure.empty()) ::kill(pid, SIGTERM);  // it may still be waiting; the launch is over
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!failure.empty())
        throw cvm::Error(fmt::format("the owner command gave no reply ({}; it ended with {})", failure, describe(status)),
                         0, command);
    return reply;
}

} // namespace

OwnerRoundTrip owner_over_command(std::string command, std::chrono::milliseconds timeout) {
    return [command = std::move(command), timeout](const std::string& request) {
        return run_once(command, timeout, request);
    };
}

} // namespace cvm
