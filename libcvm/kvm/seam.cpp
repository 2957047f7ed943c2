#include "cvm/kvm.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

namespace cvm {
namespace {

class SystemSeam final : public KvmSeam {
public:
    int open(const char* path, int flags) override {
        int fd = ::open(path, flags);
        return fd < 0 ? -errno : fd;
    }
    int ioctl(int fd, unsigned long request, void* arg) override {
        int rc = ::ioctl(fd, request, arg);
        return rc < 0 ? -errno : rc;
    }
    int mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) override {
        void* p = ::mmap(nullptr, length, prot, flags, fd, offset);
        if (p == MAP_FAILED) return -errno;
        *out = p;
        return 0;
    }
};

} // namespace

KvmSeam& system_kvm_seam() {
    static SystemSeam seam;
    return seam;
}

} // namespace cvm
