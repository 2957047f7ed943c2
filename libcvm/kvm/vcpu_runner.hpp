// Runs a VM's vCPUs, one thread each, until one of them, a device or the
// timeout decides the guest has stopped. Technology and architecture details
// live in the ExitHandler; this loop only knows how to run and stop threads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cvm/backend.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm {

struct StopRequest {
    ExitReason reason;
    std::string detail;
};

class ExitHandler {
public:
    virtual ~ExitHandler() = default;
    // Called on the vCPU's thread after each KVM_RUN that returned 0.
    // Returns a stop request to end the run, or nothing to continue.
    // Must be thread-safe: vCPUs exit concurrently.
    virtual std::optional<StopRequest> on_exit(const Vcpu& vcpu) = 0;
};

// Runs every vCPU until a stop. The guest may also stop asynchronously
// through request_stop() (a device on another thread).
class VcpuRunner {
public:
    VcpuRunner(std::vector<Vcpu>& vcpus, ExitHandler& handler);
    RunResult run(std::chrono::milliseconds timeout);
    void request_stop(StopRequest request);

private:
    struct State;
    std::vector<Vcpu>& vcpus_;
    ExitHandler& handler_;
    std::shared_ptr<State> state_;
};

} // namespace cvm
