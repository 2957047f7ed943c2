// Test seams for the KVM ioctl boundary.
//
// RecordingSeam wraps another seam (the real kernel or FakeKvm) and records
// every call: which fd (by role: "kvm", "vm", "vcpu0", ...), the request
// number, and the argument bytes as they were passed in. It can also fail the
// N-th call with an errno, without forwarding it, to test clean-up.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cvm/kvm.hpp"

namespace cvmtest {

struct RecordedCall {
    std::string kind;               // "open", "ioctl" or "mmap"
    std::string fd_role;            // role of the fd the call was made on
    unsigned long request = 0;      // ioctl request number
    std::string name;               // request name, e.g. "KVM_CREATE_VM"
    std::vector<std::uint8_t> arg;  // argument bytes (_IOC_SIZE of them) or the value
    int result = 0;
};

class RecordingSeam final : public cvm::KvmSeam {
public:
    explicit RecordingSeam(cvm::KvmSeam& inner) : inner_(inner) {}

    // Fail the call with this index (counting open, ioctl and mmap) with -err.
    void fail_call(std::size_t index, int err) {
        fail_index_ = index;
        fail_errno_ = err;
    }
    // Stop recording KVM_RUN and what follows (devices' IRQ lines), to keep
    // sequences independent of how many exits a guest takes.
    void record_runs(bool on) { record_runs_ = on; }

    int open(const char* path, int flags) override;
    int ioctl(int fd, unsigned long request, void* arg) override;
    int mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) override;

    std::vector<RecordedCall> calls() const;
    // "role NAME" per call, e.g. "vm KVM_SET_USER_MEMORY_REGION".
    std::vector<std::string> summary() const;
    std::size_t count() const;

private:
    bool should_fail();
    std::string role(int fd) const;
    void name_result(unsigned long request, int result, void* arg);

    cvm::KvmSeam& inner_;
    mutable std::mutex mutex_;
    std::vector<RecordedCall> calls_;
    std::vector<std::pair<int, std::string>> roles_;
    std::size_t index_ = 0;
    std::optional<std::size_t> fail_index_;
    int fail_errno_ = 0;
    bool record_runs_ = true;
    bool running_ = false;
};

// The name of a KVM request number, or its hex value.
std::string request_name(unsigned long request);

// Number of open file descriptors of this process.
std::size_t open_fd_count();

} // namespace cvmtest
