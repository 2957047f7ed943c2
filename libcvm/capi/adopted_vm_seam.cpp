#include "libcvm/capi/adopted_vm_seam.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/kvm.h>

#include <fmt/format.h>

namespace cvm::capi {

int AdoptedVmSeam::refuse(std::string why, int err) {
    if (refusal_.empty()) refusal_ = std::move(why);
    return -err;
}

int AdoptedVmSeam::ioctl(int fd, unsigned long request, void* arg) {
    if (request != KVM_CREATE_VM) return next_.ioctl(fd, request, arg);

    const auto wanted_type = reinterpret_cast<unsigned long>(arg);
    if (adopted_)
        return refuse("the launcher asked for a second VM, but the caller provided one", EBUSY);
    if (wanted_type != machine_type_)
        return refuse(fmt::format("the plan needs a VM of machine type {:#x}, but the caller's VM fd {} was "
                                  "created with type {:#x}", wanted_type, vm_fd_, machine_type_), EINVAL);
    // Only a VM fd answers KVM_CHECK_EXTENSION and refuses the system fd's
    // KVM_GET_API_VERSION; vCPU fds and unrelated fds answer neither.
    if (next_.ioctl(vm_fd_, KVM_CHECK_EXTENSION, reinterpret_cast<void*>(KVM_CAP_USER_MEMORY)) <= 0 ||
        next_.ioctl(vm_fd_, KVM_GET_API_VERSION, nullptr) >= 0)
        return refuse(fmt::format("fd {} given as the VM is not a KVM VM fd", vm_fd_), EBADF);

    int duplicate = ::fcntl(vm_fd_, F_DUPFD_CLOEXEC, 0);
    if (duplicate < 0) return refuse(fmt::format("cannot duplicate the caller's VM fd {}", vm_fd_), errno);
    adopted_ = true;
    return duplicate;
}

} // namespace cvm::capi
