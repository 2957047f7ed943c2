// The x86 KVM calls whose argument is a header and a flexible array
// (kvm_cpuid2, kvm_msrs). Linux 6.1's UAPI declares those arrays with
// __DECLARE_FLEX_ARRAY, which in C++ adds 4 bytes to the structs and so
// changes the ioctl numbers that encode their size: the 8-byte header and
// the request numbers are spelled out here, once. x86 hosts only.
#pragma once

#include <cstdint>
#include <linux/kvm.h>
#include <vector>

namespace cvm::x86 {

struct FlexHeader {
    std::uint32_t count;
    std::uint32_t padding;
};
static_assert(sizeof(FlexHeader) == 8);
static_assert(sizeof(kvm_cpuid_entry2) == 40 && sizeof(kvm_msr_entry) == 16);

inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, FlexHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, FlexHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, FlexHeader);

// The header and `count` entries in one buffer, as the kernel reads them.
template <class Entry>
struct FlexBuffer {
    explicit FlexBuffer(std::size_t count) : storage(sizeof(FlexHeader) + count * sizeof(Entry)) {
        header()->count = static_cast<std::uint32_t>(count);
    }
    FlexHeader* header() { return reinterpret_cast<FlexHeader*>(storage.data()); }
    Entry* entries() { return reinterpret_cast<Entry*>(storage.data() + sizeof(FlexHeader)); }
    std::vector<std::uint8_t> storage;
};

} // namespace cvm::x86
