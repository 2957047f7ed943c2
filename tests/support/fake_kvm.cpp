#include "fake_kvm.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

namespace cvmtest {

int new_memfd(std::size_t size) {
    int fd = memfd_create("fake-kvm", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    if (size && ftruncate(fd, static_cast<off_t>(size)) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

int FakeKvm::open(const char*, int) { return new_memfd(0); }

int FakeKvm::mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) {
    void* p = ::mmap(nullptr, length, prot, flags, fd, offset);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
}

FakeKvm::Exit FakeKvm::port_write(std::uint16_t port, std::uint32_t value, std::uint8_t size) {
    return [=](kvm_run& run) {
        run.exit_reason = KVM_EXIT_IO;
        run.io.direction = KVM_EXIT_IO_OUT;
        run.io.size = size;
        run.io.port = port;
        run.io.count = 1;
        run.io.data_offset = 4096;
        std::memcpy(reinterpret_cast<std::uint8_t*>(&run) + 4096, &value, size);
    };
}

int FakeKvm::ioctl(int fd, unsigned long request, void* arg) {
    if (_IOC_TYPE(request) != KVMIO) return on_other ? on_other(fd, request, arg) : -ENOTTY;
    switch (_IOC_NR(request)) {
    case 0x00: return KVM_API_VERSION;
    case 0x01: return new_memfd(0);                  // KVM_CREATE_VM
    case 0x03:                                       // KVM_CHECK_EXTENSION
        // KVM_CAP_MEMORY_ATTRIBUTES answers with a mask: KVM_MEMORY_ATTRIBUTE_PRIVATE.
        return reinterpret_cast<std::uintptr_t>(arg) == 233 ? 1 << 3 : 1;
    case 0x04: return static_cast<int>(kRunSize);    // KVM_GET_VCPU_MMAP_SIZE
#if defined(__x86_64__)
    // x86 only: kvm_cpuid_entry2 exists in no other architecture's headers,
    // and the fake must build for the arm64 and riscv64 cross tests too.
    case 0x05: {                                     // KVM_GET_SUPPORTED_CPUID
        auto* header = static_cast<std::uint32_t*>(arg);
        if (header[0] < 2) return -E2BIG;
        header[0] = 2;
        auto* entries = reinterpret_cast<kvm_cpuid_entry2*>(header + 2);
        std::memset(entries, 0, 2 * sizeof(kvm_cpuid_entry2));
        entries[0].function = 0;
        entries[0].eax = 1;
        entries[1].function = 1;
        return 0;
    }
#endif
    case 0x41: {                                     // KVM_CREATE_VCPU
        int vcpu = new_memfd(kRunSize);
        if (reinterpret_cast<std::uintptr_t>(arg) == 0) {
            std::lock_guard lock(mutex_);
            vcpu0_fd_ = vcpu;
        }
        return vcpu;
    }
    case 0x80: {                                     // KVM_RUN
        void* map = ::mmap(nullptr, kRunSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) return -errno;
        auto& run = *static_cast<kvm_run*>(map);
        int rc = 0;
        bool is_boot_cpu;
        {
            std::lock_guard lock(mutex_);
            is_boot_cpu = fd == vcpu0_fd_;
        }
        if (run.immediate_exit) {
            rc = -EINTR;
        } else if (is_boot_cpu) {
            std::lock_guard lock(mutex_);
            if (exits_.empty()) {
                run.exit_reason = KVM_EXIT_SHUTDOWN;
            } else {
                exits_.front()(run);
                exits_.pop_front();
            }
        } else {
            // An AP waits for a start-up IPI that never comes.
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            rc = -EINTR;
        }
        ::munmap(map, kRunSize);
        return rc;
    }
    default:
        return on_other ? on_other(fd, request, arg) : 0;
    }
}

} // namespace cvmtest
