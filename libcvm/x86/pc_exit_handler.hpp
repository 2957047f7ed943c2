// The exit handler of libcvm's PC machines (the plain x86 guest and the SEV
// guests): port I/O goes to the PIO bus, whose devices (i8042 reset, ACPI
// PM1 power-off) stop the run through the machine's StopLatch; MMIO outside
// RAM and the in-kernel APICs reads all ones and drops writes, as a bus
// with no device there; and, for guests with private memory, the page-state
// hypercall KVM_HC_MAP_GPA_RANGE converts the range (arch/x86/kvm/svm/sev.c
// snp_begin_psc: a0 the GPA, a1 the number of 4 KiB pages, a2 ENCRYPTED or
// not | the page size; a non-zero answer fails the guest's request).
#pragma once

#include "libcvm/devices/bus.hpp"
#include "libcvm/devices/stop_latch.hpp"
#include "libcvm/kvm/private_memory.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"

namespace cvm::x86 {

inline constexpr std::uint64_t kHcMapGpaRange = 12;  // KVM_HC_MAP_GPA_RANGE (include/uapi/linux/kvm_para.h)

class PcExitHandler final : public ExitHandler {
public:
    // `private_memory` null: the machine has none, and the hypercall is
    // not one it answers.
    PcExitHandler(Bus& bus, StopLatch& latch, MemoryConverter* private_memory = nullptr)
        : bus_(bus), latch_(latch), private_memory_(private_memory) {}
    std::optional<StopRequest> on_exit(const Vcpu& vcpu, exits::DeviceExit& exit) override;

private:
    Bus& bus_;
    StopLatch& latch_;
    MemoryConverter* private_memory_;
};

} // namespace cvm::x86
