// The exit handler of a machine whose devices are all on one MMIO bus (the
// arm64 machines): MMIO exits go to the bus, anything else stops the run as
// unhandled. Stateless beyond the bus, which serializes its devices.
#pragma once

#include "libcvm/devices/mmio_bus.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"

namespace cvm {

class MmioExitHandler final : public ExitHandler {
public:
    explicit MmioExitHandler(MmioBus& bus) : bus_(bus) {}
    std::optional<StopRequest> on_exit(const Vcpu& vcpu, exits::DeviceExit& exit) override {
        if (auto* mmio = std::get_if<exits::Mmio>(&exit)) {
            bus_.handle(*mmio);
            return std::nullopt;
        }
        return unhandled(vcpu, exit);
    }

private:
    MmioBus& bus_;
};

} // namespace cvm
