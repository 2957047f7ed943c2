// A stand-in for the KVM kernel interface, for tests on hosts without the
// hardware a backend needs. Every fd it hands out is a real memfd, so a leak
// shows in /proc/self/fd exactly as a real one would. KVM_RUN plays a
// scripted guest: each run fills kvm_run with the next scripted exit.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <linux/kvm.h>
#include <mutex>

#include "cvm/kvm.hpp"

namespace cvmtest {

// A memfd of `size` bytes standing for a kernel object's fd (VM, vCPU,
// guest_memfd), or -errno: a leak shows in /proc/self/fd like a real fd.
int new_memfd(std::size_t size);

class FakeKvm final : public cvm::KvmSeam {
public:
    using Exit = std::function<void(kvm_run&)>;
    static constexpr std::size_t kRunSize = 3 * 4096;

    // Script the exits vCPU 0 takes, in order; once they run out, the vCPU
    // reports KVM_EXIT_SHUTDOWN. Other vCPUs block until interrupted.
    void script(std::deque<Exit> exits) { exits_ = std::move(exits); }
    // Optional hook for requests the fake does not know (returns the result).
    std::function<int(int fd, unsigned long request, void* arg)> on_other;

    int open(const char* path, int flags) override;
    int ioctl(int fd, unsigned long request, void* arg) override;
    int mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) override;

    // Exits that emulate a guest writing to an I/O port.
    static Exit port_write(std::uint16_t port, std::uint32_t value, std::uint8_t size);

private:
    std::mutex mutex_;
    std::deque<Exit> exits_;
    int vcpu0_fd_ = -1;
};

} // namespace cvmtest
