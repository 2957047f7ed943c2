// The ioctl seam: every system call libcvm makes on KVM goes through a
// KvmSeam. The default forwards to the kernel; tests substitute one that
// records each call's request number and argument bytes, or fails the N-th
// call, or plays a kernel that is not on this machine (RME, SEV, CoVE).
#pragma once

#include <cstddef>
#include <sys/types.h>

namespace cvm {

class KvmSeam {
public:
    virtual ~KvmSeam() = default;
    // Returns a new fd, or -errno.
    virtual int open(const char* path, int flags) = 0;
    // Returns the ioctl's non-negative result, or -errno.
    virtual int ioctl(int fd, unsigned long request, void* arg) = 0;
    // Stores the mapping in *out and returns 0, or returns -errno.
    virtual int mmap(void** out, std::size_t length, int prot, int flags, int fd,
                     off_t offset) = 0;
};

// The seam that makes the real system calls. Thread-safe.
KvmSeam& system_kvm_seam();

} // namespace cvm
