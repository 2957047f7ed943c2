// Generic KVM UAPI newer than Debian 12's 6.1 headers: memory slots backed
// by guest_memfd and per-range memory attributes (include/uapi/linux/kvm.h,
// Linux 6.8). Shared by every backend with private guest memory (SEV-SNP,
// Arm CCA); sizes, offsets and request numbers are asserted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <linux/ioctl.h>
#include <linux/kvm.h>

namespace cvm::guest_memfd_uapi {

struct UserspaceMemoryRegion2 {  // struct kvm_userspace_memory_region2
    std::uint32_t slot;
    std::uint32_t flags;
    std::uint64_t guest_phys_addr;
    std::uint64_t memory_size;
    std::uint64_t userspace_addr;
    std::uint64_t guest_memfd_offset;
    std::uint32_t guest_memfd;
    std::uint32_t pad1;
    std::uint64_t pad2[14];
};
static_assert(sizeof(UserspaceMemoryRegion2) == 160);
static_assert(offsetof(UserspaceMemoryRegion2, guest_phys_addr) == 8);
static_assert(offsetof(UserspaceMemoryRegion2, userspace_addr) == 24);
static_assert(offsetof(UserspaceMemoryRegion2, guest_memfd_offset) == 32);
static_assert(offsetof(UserspaceMemoryRegion2, guest_memfd) == 40 && offsetof(UserspaceMemoryRegion2, pad2) == 48);

struct CreateGuestMemfd {  // struct kvm_create_guest_memfd
    std::uint64_t size;
    std::uint64_t flags;
    std::uint64_t reserved[6];
};
static_assert(sizeof(CreateGuestMemfd) == 64);

struct MemoryAttributes {  // struct kvm_memory_attributes
    std::uint64_t address;
    std::uint64_t size;
    std::uint64_t attributes;
    std::uint64_t flags;
};
static_assert(sizeof(MemoryAttributes) == 32);
static_assert(offsetof(MemoryAttributes, attributes) == 16);

inline constexpr std::uint32_t kMemGuestMemfd = 1u << 2;             // KVM_MEM_GUEST_MEMFD
inline constexpr std::uint64_t kMemoryAttributePrivate = 1ull << 3;  // KVM_MEMORY_ATTRIBUTE_PRIVATE

inline constexpr unsigned long kSetUserMemoryRegion2 = _IOW(KVMIO, 0x49, UserspaceMemoryRegion2);
inline constexpr unsigned long kCreateGuestMemfd = _IOWR(KVMIO, 0xd4, CreateGuestMemfd);
inline constexpr unsigned long kSetMemoryAttributes = _IOW(KVMIO, 0xd2, MemoryAttributes);
static_assert(kSetUserMemoryRegion2 == 0x40a0ae49);
static_assert(kCreateGuestMemfd == 0xc040aed4);
static_assert(kSetMemoryAttributes == 0x4020aed2);

} // namespace cvm::guest_memfd_uapi
