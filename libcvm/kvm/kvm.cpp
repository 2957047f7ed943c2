#include "libcvm/kvm/kvm.hpp"

#include <fcntl.h>
#include <sys/mman.h>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {

int KvmFd::ioctl(unsigned long request, void* arg, std::string_view name) const {
    int rc = seam_->ioctl(fd_.get(), request, arg);
    if (rc < 0) throw Error(fmt::format("{} failed", name), -rc, "kvm");
    return rc;
}

int KvmFd::ioctl_value(unsigned long request, unsigned long value, std::string_view name) const {
    // These ioctls take their argument by value in the pointer slot.
    return ioctl(request, reinterpret_cast<void*>(value), name);
}

Vcpu::Vcpu(KvmSeam& seam, UniqueFd fd, unsigned id, std::size_t run_size)
    : KvmFd(seam, std::move(fd)), id_(id) {
    void* map = nullptr;
    int rc = seam.mmap(&map, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, this->fd(), 0);
    if (rc < 0) throw Error(fmt::format("mmap of vCPU {} kvm_run failed", id), -rc, "kvm");
    run_ = Mapping(map, run_size);
}

int Vcpu::run_once() const { return seam().ioctl(fd(), KVM_RUN, nullptr); }

void Vm::set_user_memory_region(std::uint32_t slot, std::uint64_t gpa, std::uint64_t size,
                                void* host, std::uint32_t flags) const {
    kvm_userspace_memory_region region{};
    region.slot = slot;
    region.flags = flags;
    region.guest_phys_addr = gpa;
    region.memory_size = size;
    region.userspace_addr = reinterpret_cast<std::uint64_t>(host);
    ioctl(KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
}

Vcpu Vm::create_vcpu(unsigned id) const {
    int fd = ioctl_value(KVM_CREATE_VCPU, id, fmt::format("KVM_CREATE_VCPU {}", id));
    return Vcpu(seam(), UniqueFd(fd), id, vcpu_run_size_);
}

void Vm::irq_line(std::uint32_t irq, bool level) const {
    kvm_irq_level line{};
    line.irq = irq;
    line.level = level ? 1 : 0;
    ioctl(KVM_IRQ_LINE, &line, "KVM_IRQ_LINE");
}

int Vm::check_extension(long capability) const {
    return ioctl_value(KVM_CHECK_EXTENSION, static_cast<unsigned long>(capability), "KVM_CHECK_EXTENSION");
}

UniqueFd KvmSystem::open_device(KvmSeam& seam, const std::string& device) {
    int fd = seam.open(device.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw Error("cannot open the KVM device", -fd, device);
    return UniqueFd(fd);
}

KvmSystem::KvmSystem(KvmSeam& seam, const std::string& device)
    : KvmFd(seam, open_device(seam, device)) {
    int version = ioctl_value(KVM_GET_API_VERSION, 0, "KVM_GET_API_VERSION");
    if (version != KVM_API_VERSION)
        throw Error(fmt::format("KVM API version is {}, expected {}", version, KVM_API_VERSION), 0, device);
    vcpu_mmap_size_ = static_cast<std::size_t>(ioctl_value(KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE"));
}

int KvmSystem::check_extension(long capability) const {
    return ioctl_value(KVM_CHECK_EXTENSION, static_cast<unsigned long>(capability), "KVM_CHECK_EXTENSION");
}

void KvmSystem::require(long capability, std::string_view name, std::string_view needed_by) const {
    if (check_extension(capability) <= 0)
        throw Error(fmt::format("this KVM lacks {}, which {} needs", name, needed_by), 0, "kvm");
}

Vm KvmSystem::create_vm(unsigned long type) const {
    int fd = ioctl_value(KVM_CREATE_VM, type, "KVM_CREATE_VM");
    return Vm(seam(), UniqueFd(fd), vcpu_mmap_size_);
}

} // namespace cvm
