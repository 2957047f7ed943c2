// A KvmSeam that hands a launcher the caller's VM instead of a new one.
//
// A C VMM may create the VM itself (kvmtool-style) and ask libcvm to run a
// plan in it. Every backend creates its VM with one KVM_CREATE_VM on the
// system fd; this seam answers that call with a duplicate of the caller's VM
// fd and forwards everything else. The launcher then owns and closes the
// duplicate, and the caller keeps its own fd.
#pragma once

#include <string>

#include "cvm/kvm.hpp"

namespace cvm::capi {

class AdoptedVmSeam final : public KvmSeam {
public:
    // `machine_type` is the KVM_CREATE_VM argument the caller used.
    AdoptedVmSeam(KvmSeam& next, int vm_fd, unsigned long machine_type)
        : next_(next), vm_fd_(vm_fd), machine_type_(machine_type) {}

    int open(const char* path, int flags) override { return next_.open(path, flags); }
    int ioctl(int fd, unsigned long request, void* arg) override;
    int mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) override {
        return next_.mmap(out, length, prot, flags, fd, offset);
    }

    // Why the adoption was refused, or "" if it was not.
    const std::string& refusal() const noexcept { return refusal_; }

private:
    int refuse(std::string why, int err);

    KvmSeam& next_;
    int vm_fd_;
    unsigned long machine_type_;
    bool adopted_ = false;
    std::string refusal_;
};

} // namespace cvm::capi
