// The exit handler of a machine whose devices are all on one MMIO bus:
// MMIO exits go to the bus, and on RISC-V the SBI calls KVM forwards go to
// an SBI console when the machine has one; anything else stops the run as
// unhandled. Stateless beyond the bus and the console, which serialize
// their devices. Used by the arm64 (plain, arm-cca) and riscv64 (plain,
// riscv-cove) launchers.
#pragma once

#include "libcvm/devices/bus.hpp"
#include "libcvm/devices/sbi_console.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"

namespace cvm {

class MmioExitHandler final : public ExitHandler {
public:
    explicit MmioExitHandler(Bus& bus, SbiConsole* sbi = nullptr) : bus_(bus), sbi_(sbi) {}
    std::optional<StopRequest> on_exit(const Vcpu& vcpu, exits::DeviceExit& exit) override {
        if (auto* mmio = std::get_if<exits::Mmio>(&exit)) {
            bus_.handle(*mmio);
            return std::nullopt;
        }
        if (auto* call = std::get_if<exits::RiscvSbi>(&exit); call && sbi_) {
            sbi_->handle(*call);
            return std::nullopt;
        }
        return unhandled(vcpu, exit);
    }

private:
    Bus& bus_;
    SbiConsole* sbi_;
};

} // namespace cvm
