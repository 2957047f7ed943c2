// Runs a VM's vCPUs, one thread each, until one of them, a device or the
// timeout decides the guest has stopped. The runner decodes each exit once
// (libcvm/kvm/vcpu_exit.hpp) and handles every exit that means the same on
// every machine; a launcher's ExitHandler sees only its devices' exits.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cvm/backend.hpp"
#include "libcvm/kvm/kvm.hpp"
#include "libcvm/kvm/private_memory.hpp"
#include "libcvm/kvm/vcpu_exit.hpp"

namespace cvm {

struct StopRequest {
    ExitReason reason;
    std::string detail;
};

class ExitHandler {
public:
    virtual ~ExitHandler() = default;
    // Called on the vCPU's thread for port I/O, MMIO, hypercall and SBI
    // exits. Returns a stop request to end the run, or nothing to re-enter;
    // an exit the machine has no device for returns unhandled(). Must be
    // thread-safe: vCPUs exit concurrently.
    virtual std::optional<StopRequest> on_exit(const Vcpu& vcpu, exits::DeviceExit& exit) = 0;
};

// The stop for a device exit nothing on this machine answers.
StopRequest unhandled(const Vcpu& vcpu, const exits::DeviceExit& exit);

// One decoded exit: the common ones here, device exits by `handler`, memory
// faults converted through `converter` (a machine without private memory
// passes none, and a memory fault stops it).
std::optional<StopRequest> dispatch_exit(const Vcpu& vcpu, exits::VcpuExit& exit, ExitHandler& handler,
                                         MemoryConverter* converter);

// Runs every vCPU until a stop. The guest may also stop asynchronously
// through request_stop() (a device on another thread).
class VcpuRunner {
public:
    VcpuRunner(std::vector<Vcpu>& vcpus, ExitHandler& handler, MemoryConverter* converter = nullptr);
    // Runs until a stop, the timeout (0: none) or `interrupted` returning
    // true, which is polled on the calling thread while the guest runs.
    RunResult run(std::chrono::milliseconds timeout, const std::function<bool()>& interrupted = {});
    RunResult run(const RunOptions& options) { return run(options.timeout, options.interrupted); }
    void request_stop(StopRequest request);

private:
    struct State;
    std::vector<Vcpu>& vcpus_;
    ExitHandler& handler_;
    MemoryConverter* converter_;
    std::shared_ptr<State> state_;
};

} // namespace cvm
