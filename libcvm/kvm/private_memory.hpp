// Guest RAM with private memory: each region a guest_memfd memory slot
// (KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD) over an ordinary
// host mapping that backs the range while it is shared, and the
// private/shared attribute of every range (KVM_SET_MEMORY_ATTRIBUTES).
// SEV-SNP and Arm CCA realms both live on it; the vCPU runner uses it to
// answer KVM_EXIT_MEMORY_FAULT by converting the range and re-entering.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/kvm.hpp"
#include "libcvm/kvm/unique_fd.hpp"

namespace cvm {

// What the runner calls for a memory-fault exit (and SEV's page-state
// hypercall): make [gpa, gpa+size) private or shared.
class MemoryConverter {
public:
    virtual ~MemoryConverter() = default;
    virtual void convert(std::uint64_t gpa, std::uint64_t size, bool to_private) = 0;
};

// Capability numbers of the Linux 6.8 UAPI (include/uapi/linux/kvm.h).
inline constexpr long kCapUserMemory2 = 231;       // KVM_CAP_USER_MEMORY2
inline constexpr long kCapMemoryAttributes = 233;  // KVM_CAP_MEMORY_ATTRIBUTES: the supported attribute mask
inline constexpr long kCapGuestMemfd = 234;        // KVM_CAP_GUEST_MEMFD
inline constexpr long kCapVmTypes = 235;           // KVM_CAP_VM_TYPES: a mask of 1 << type

class PrivateMemory final : public MemoryConverter {
public:
    // Checks, on `vm`, that this kernel has guest_memfd slots and a private
    // memory attribute for this VM type (the VM-scoped KVM_CHECK_EXTENSION
    // answers per VM type: kvm_vm_ioctl_check_extension_generic).
    PrivateMemory(const Vm& vm, GuestMemory& shared);

    // A guest_memfd slot for [gpa, gpa+size), its shared side freshly mapped
    // in the GuestMemory. `initially_private` sets the attribute of the whole
    // range at once, as QEMU does for confidential RAM at slot creation.
    void add(std::uint64_t gpa, std::uint64_t size, bool initially_private);
    // KVM_SET_MEMORY_ATTRIBUTES over the range; nothing is discarded (a
    // launch still copies from the shared side after this).
    void set_attribute(std::uint64_t gpa, std::uint64_t size, bool is_private) const;
    // A conversion at run time: the attribute, then the side the range
    // leaves is discarded (its guest_memfd pages punched out, or its shared
    // pages dropped), as QEMU's ram_block_convert_range does. Throws naming
    // the range if it is not inside one slot. Thread-safe; slots must all be
    // added before the vCPUs run.
    void convert(std::uint64_t gpa, std::uint64_t size, bool to_private) override;

    GuestMemory& shared() { return shared_; }

private:
    struct Slot {
        std::uint64_t gpa;
        std::uint64_t size;
        UniqueFd memfd;
    };
    const Slot& slot_of(std::uint64_t gpa, std::uint64_t size) const;

    const Vm& vm_;
    GuestMemory& shared_;
    std::vector<Slot> slots_;
    // vCPU threads convert concurrently (memory faults, SNP page-state
    // hypercalls); one at a time keeps a range's attribute and its discard
    // together, as QEMU holds its RAM-block lock across both.
    std::mutex convert_mutex_;
};

} // namespace cvm
