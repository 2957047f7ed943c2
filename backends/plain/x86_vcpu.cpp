#include "backends/plain/x86_vcpu.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"
#include "libcvm/x86/cpuid.hpp"

namespace cvm::x86 {

void configure_vcpu(const Vcpu& vcpu, std::vector<kvm_cpuid_entry2> cpuid) {
    set_cpuid(vcpu, std::move(cpuid));

    auto lapic = std::make_unique<kvm_lapic_state>();
    vcpu.ioctl(KVM_GET_LAPIC, lapic.get(), "KVM_GET_LAPIC");
    auto set_delivery_mode = [&](std::size_t reg, std::uint32_t mode) {
        std::span<std::uint8_t> regs(reinterpret_cast<std::uint8_t*>(lapic->regs), sizeof lapic->regs);
        auto value = le::read<std::uint32_t>(regs, reg);
        le::write<std::uint32_t>(regs, reg, (value & ~0x700u) | (mode << 8));
    };
    constexpr std::size_t kLvtLint0 = 0x350, kLvtLint1 = 0x360;
    constexpr std::uint32_t kExtInt = 7, kNmi = 4;
    set_delivery_mode(kLvtLint0, kExtInt);
    set_delivery_mode(kLvtLint1, kNmi);
    vcpu.ioctl(KVM_SET_LAPIC, lapic.get(), "KVM_SET_LAPIC");
}

} // namespace cvm::x86
