#include "libcvm/x86/cpuid.hpp"

#include <cerrno>
#include <cstring>

#include "cvm/error.hpp"
#include "libcvm/x86/flex_array.hpp"

namespace cvm::x86 {

std::vector<kvm_cpuid_entry2> supported_cpuid(const KvmSystem& kvm) {
    for (std::size_t entries = 128; entries <= 4096; entries *= 2) {
        FlexBuffer<kvm_cpuid_entry2> buffer(entries);
        int rc = kvm.seam().ioctl(kvm.fd(), kGetSupportedCpuid, buffer.header());
        if (rc == -E2BIG) continue;
        if (rc < 0) throw Error("KVM_GET_SUPPORTED_CPUID failed", -rc, "kvm");
        return {buffer.entries(), buffer.entries() + buffer.header()->count};
    }
    throw Error("KVM_GET_SUPPORTED_CPUID wants more than 4096 entries", E2BIG, "kvm");
}

void set_cpuid(const Vcpu& vcpu, std::vector<kvm_cpuid_entry2> cpuid) {
    for (auto& e : cpuid) {
        if (e.function == 1) e.ebx = (e.ebx & 0x00ffffff) | (vcpu.id() << 24);  // initial APIC ID
        if (e.function == 0xb || e.function == 0x1f) e.edx = vcpu.id();         // x2APIC ID
    }
    FlexBuffer<kvm_cpuid_entry2> buffer(cpuid.size());
    std::memcpy(buffer.entries(), cpuid.data(), cpuid.size() * sizeof(kvm_cpuid_entry2));
    vcpu.ioctl(kSetCpuid2, buffer.header(), "KVM_SET_CPUID2");
}

} // namespace cvm::x86
