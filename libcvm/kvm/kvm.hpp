// RAII handles for /dev/kvm, a VM and its vCPUs. Every ioctl goes through the
// KvmSeam the handle was created with, and a refused ioctl throws a cvm::Error
// carrying its name and errno. Handles close their fds and unmap kvm_run on
// destruction, so an exception anywhere in a launch leaks nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <linux/kvm.h>

#include "cvm/kvm.hpp"
#include "libcvm/kvm/mapping.hpp"
#include "libcvm/kvm/unique_fd.hpp"

namespace cvm {

// Shared by the three handle kinds: an fd plus the seam its ioctls go through.
class KvmFd {
public:
    KvmFd(KvmSeam& seam, UniqueFd fd) : seam_(&seam), fd_(std::move(fd)) {}
    int fd() const noexcept { return fd_.get(); }
    KvmSeam& seam() const noexcept { return *seam_; }
    // Issues the ioctl; throws cvm::Error("<name> failed", errno) if refused.
    int ioctl(unsigned long request, void* arg, std::string_view name) const;
    // An ioctl whose argument is a plain integer (KVM_CREATE_VM, KVM_CHECK_EXTENSION...).
    int ioctl_value(unsigned long request, unsigned long value, std::string_view name) const;

private:
    KvmSeam* seam_;
    UniqueFd fd_;
};

class Vcpu : public KvmFd {
public:
    Vcpu(KvmSeam& seam, UniqueFd fd, unsigned id, std::size_t run_size);
    unsigned id() const noexcept { return id_; }
    kvm_run* run() const noexcept { return static_cast<kvm_run*>(run_.get()); }
    // One KVM_RUN. Returns 0, or -errno without throwing: EINTR is how a
    // vCPU is stopped, and the caller decides what other errors mean.
    int run_once() const;

private:
    unsigned id_;
    Mapping run_;
};

class Vm : public KvmFd {
public:
    Vm(KvmSeam& seam, UniqueFd fd, std::size_t vcpu_run_size)
        : KvmFd(seam, std::move(fd)), vcpu_run_size_(vcpu_run_size) {}
    void set_user_memory_region(std::uint32_t slot, std::uint64_t gpa, std::uint64_t size,
                                void* host, std::uint32_t flags = 0) const;
    Vcpu create_vcpu(unsigned id) const;
    void irq_line(std::uint32_t irq, bool level) const;
    int check_extension(long capability) const;

private:
    std::size_t vcpu_run_size_;
};

class KvmSystem : public KvmFd {
public:
    // Opens `device` and checks KVM_GET_API_VERSION is 12.
    KvmSystem(KvmSeam& seam, const std::string& device);
    int check_extension(long capability) const;
    // Throws "this KVM lacks <name>, which <needed_by> needs" unless the
    // capability is offered.
    void require(long capability, std::string_view name, std::string_view needed_by) const;
    // KVM_CREATE_VM with the machine type `type` (0 for the default).
    Vm create_vm(unsigned long type = 0) const;
    std::size_t vcpu_mmap_size() const noexcept { return vcpu_mmap_size_; }

private:
    static UniqueFd open_device(KvmSeam& seam, const std::string& device);
    std::size_t vcpu_mmap_size_ = 0;
};

} // namespace cvm
