#include "libcvm/kvm/private_memory.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/kvm/guest_memfd_uapi.hpp"

namespace cvm {

PrivateMemory::PrivateMemory(const Vm& vm, GuestMemory& shared) : vm_(vm), shared_(shared) {
    if (vm.check_extension(kCapGuestMemfd) <= 0 || vm.check_extension(kCapUserMemory2) <= 0)
        throw Error("this KVM has no guest_memfd memory slots (KVM_CAP_GUEST_MEMFD, KVM_CAP_USER_MEMORY2; Linux 6.8), "
                    "which private guest memory needs", 0, "kvm");
    const int attributes = vm.check_extension(kCapMemoryAttributes);
    if (attributes < 0 || (static_cast<std::uint64_t>(attributes) & guest_memfd_uapi::kMemoryAttributePrivate) == 0)
        throw Error("this KVM offers no private memory attribute for this VM type (KVM_CAP_MEMORY_ATTRIBUTES)", 0, "kvm");
}

void PrivateMemory::add(std::uint64_t gpa, std::uint64_t size, bool initially_private) {
    const auto& region = shared_.add(gpa, size);
    guest_memfd_uapi::CreateGuestMemfd create{};
    create.size = size;
    UniqueFd memfd(vm_.ioctl(guest_memfd_uapi::kCreateGuestMemfd, &create, "KVM_CREATE_GUEST_MEMFD"));
    guest_memfd_uapi::UserspaceMemoryRegion2 slot{};
    slot.slot = static_cast<std::uint32_t>(slots_.size());
    slot.flags = guest_memfd_uapi::kMemGuestMemfd;
    slot.guest_phys_addr = gpa;
    slot.memory_size = size;
    slot.userspace_addr = reinterpret_cast<std::uint64_t>(region.host.get());
    slot.guest_memfd = static_cast<std::uint32_t>(memfd.get());
    vm_.ioctl(guest_memfd_uapi::kSetUserMemoryRegion2, &slot, "KVM_SET_USER_MEMORY_REGION2");
    slots_.push_back(Slot{gpa, size, std::move(memfd)});
    if (initially_private) set_attribute(gpa, size, true);
}

void PrivateMemory::set_attribute(std::uint64_t gpa, std::uint64_t size, bool is_private) const {
    guest_memfd_uapi::MemoryAttributes attributes{gpa, size, is_private ? guest_memfd_uapi::kMemoryAttributePrivate : 0, 0};
    vm_.ioctl(guest_memfd_uapi::kSetMemoryAttributes, &attributes,
              fmt::format("KVM_SET_MEMORY_ATTRIBUTES([{:#x}, {:#x}) {})", gpa, gpa + size,
                          is_private ? "private" : "shared"));
}

const PrivateMemory::Slot& PrivateMemory::slot_of(std::uint64_t gpa, std::uint64_t size) const {
    for (const auto& s : slots_)
        if (gpa >= s.gpa && size <= s.size && gpa - s.gpa <= s.size - size) return s;
    throw Error(fmt::format("the guest asked to convert [{:#x}, +{:#x}), which is not inside one private memory slot",
                            gpa, size));
}

void PrivateMemory::convert(std::uint64_t gpa, std::uint64_t size, bool to_private) {
    if (size == 0 || gpa % 4096 || size % 4096)
        throw Error(fmt::format("the guest asked to convert [{:#x}, +{:#x}), which is not whole 4 KiB pages", gpa, size));
    std::lock_guard lock(convert_mutex_);
    const Slot& slot = slot_of(gpa, size);
    set_attribute(gpa, size, to_private);
    // Free the backing the range no longer uses, so a conversion back
    // starts from zeroed pages as the guest expects of fresh memory.
    if (to_private) {
        auto host = shared_.at(gpa, size);
        if (::madvise(host.data(), host.size(), MADV_DONTNEED) != 0)
            throw Error(fmt::format("cannot discard the shared pages of [{:#x}, +{:#x})", gpa, size), errno);
    } else if (::fallocate(slot.memfd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                           static_cast<off_t>(gpa - slot.gpa), static_cast<off_t>(size)) != 0) {
        throw Error(fmt::format("cannot discard the private pages of [{:#x}, +{:#x})", gpa, size), errno, "guest_memfd");
    }
}

} // namespace cvm
