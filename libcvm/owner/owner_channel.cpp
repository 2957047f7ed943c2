#include "cvm/owner_channel.hpp"

#include <cerrno>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {
namespace {

constexpr std::size_t kMaxReply = 1u << 20;
constexpr const char* kWhere = "owner channel";

// A socket's peer may have gone: MSG_NOSIGNAL turns its SIGPIPE into EPIPE.
// A pipe has no such flag; the caller decides what SIGPIPE does.
ssize_t write_some(int fd, const char* data, std::size_t size) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data, size);
    return n;
}

void write_line(int fd, const std::string& request) {
    std::string line = request + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = write_some(fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error("cannot send the request to the guest owner", errno, kWhere);
        done += static_cast<std::size_t>(n);
    }
}

std::string read_line(int fd, std::chrono::milliseconds timeout, const std::function<bool()>& interrupted) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + timeout;
    std::string reply;
    char buffer[4096];
    for (;;) {
        if (interrupted && interrupted()) throw Error("the launch was cancelled while waiting for the guest owner", 0, kWhere);
        if (timeout.count() && Clock::now() >= deadline)
            throw Error(fmt::format("the guest owner did not answer within {} ms", timeout.count()), 0, kWhere);
        pollfd p{fd, POLLIN, 0};
        int ready = ::poll(&p, 1, 50);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw Error("cannot wait for the guest owner", errno, kWhere);
        if (ready == 0) continue;
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) throw Error("cannot read the guest owner's reply", errno, kWhere);
        if (n == 0)
            throw Error(reply.empty() ? "the guest owner closed the channel without a reply"
                                      : "the guest owner closed the channel before ending its reply with a newline",
                        0, kWhere);
        reply.append(buffer, static_cast<std::size_t>(n));
        if (auto end = reply.find('\n'); end != std::string::npos) {
            reply.resize(end);
            return reply;
        }
        if (reply.size() > kMaxReply)
            throw Error(fmt::format("the guest owner's reply exceeds {} bytes without a newline", kMaxReply), 0, kWhere);
    }
}

} // namespace

OwnerRoundTrip owner_over_fds(int from_owner, int to_owner, std::chrono::milliseconds timeout,
                              std::function<bool()> interrupted) {
    if (from_owner < 0 || to_owner < 0)
        throw Error(fmt::format("owner channel fds {} and {}: both must be open descriptors", from_owner, to_owner));
    return [from_owner, to_owner, timeout, interrupted = std::move(interrupted)](const std::string& request) {
        write_line(to_owner, request);
        return read_line(from_owner, timeout, interrupted);
    };
}

} // namespace cvm
