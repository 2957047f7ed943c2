#include "libcvm/kvm/vcpu_runner.hpp"

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <thread>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm {
namespace {

// A vCPU blocked in KVM_RUN (an AP waiting for its start-up IPI, a halted
// CPU) only returns when a signal interrupts it. The handler does nothing:
// the interruption is the point. SA_RESTART is left off so KVM_RUN sees EINTR.
constexpr int kKickSignal = SIGUSR2;

void ignore_signal(int) {}

void install_kick_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction current {};
        sigaction(kKickSignal, nullptr, &current);
        if (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) return;  // the host app owns it
        struct sigaction action {};
        action.sa_handler = ignore_signal;
        sigemptyset(&action.sa_mask);
        sigaction(kKickSignal, &action, nullptr);
    });
}

StopRequest system_event_stop(unsigned vcpu, std::uint32_t type) {
    switch (type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN: return {ExitReason::power_off, "the guest powered off"};
    case KVM_SYSTEM_EVENT_RESET: return {ExitReason::reset, "the guest asked for a reset"};
    case KVM_SYSTEM_EVENT_CRASH: return {ExitReason::emulation_failure, fmt::format("vCPU {} reported a guest crash", vcpu)};
    case exits::kSystemEventSevTerm:
        return {ExitReason::emulation_failure, "the guest asked to terminate (GHCB termination request)"};
    default: return {ExitReason::emulation_failure, fmt::format("unhandled system event {} on vCPU {}", type, vcpu)};
    }
}

} // namespace

StopRequest unhandled(const Vcpu& vcpu, const exits::DeviceExit& exit) {
    const std::string what = std::visit([](const auto& e) { return exits::describe(exits::VcpuExit(e)); }, exit);
    return {ExitReason::emulation_failure, fmt::format("nothing on this machine answers the {} of vCPU {}", what, vcpu.id())};
}

std::optional<StopRequest> dispatch_exit(const Vcpu& vcpu, exits::VcpuExit& exit, ExitHandler& handler,
                                         MemoryConverter* converter) {
    using namespace exits;
    const unsigned id = vcpu.id();
    auto device = [&](auto& e) -> std::optional<StopRequest> {
        DeviceExit d = e;  // points into kvm_run: the device's answer lands there
        return handler.on_exit(vcpu, d);
    };
    return std::visit(overloaded{
        [&](PortIo& e) { return device(e); },
        [&](Mmio& e) { return device(e); },
        [&](Hypercall& e) { return device(e); },
        [&](RiscvSbi& e) { return device(e); },
        [&](const SystemEvent& e) -> std::optional<StopRequest> { return system_event_stop(id, e.type); },
        [&](const Shutdown&) -> std::optional<StopRequest> {
            return StopRequest{ExitReason::triple_fault, fmt::format("vCPU {} shut down (KVM_EXIT_SHUTDOWN)", id)};
        },
        [&](const Halt&) -> std::optional<StopRequest> {
            return StopRequest{ExitReason::emulation_failure, fmt::format("vCPU {} halted with no interrupt controller to wake it", id)};
        },
        [&](const FailEntry& e) -> std::optional<StopRequest> {
            return StopRequest{ExitReason::emulation_failure,
                               fmt::format("KVM could not enter vCPU {} (hardware reason {:#x})", id, e.hardware_reason)};
        },
        [&](const InternalError& e) -> std::optional<StopRequest> {
            return StopRequest{ExitReason::emulation_failure,
                               fmt::format("KVM internal error on vCPU {} (suberror {}{})", id, e.suberror,
                                           e.suberror == KVM_INTERNAL_ERROR_EMULATION ? ": instruction emulation failed" : "")};
        },
        [&](const MemoryFault& e) -> std::optional<StopRequest> {
            if (!converter)
                return StopRequest{ExitReason::emulation_failure,
                                   fmt::format("vCPU {}: {}, but this machine has no private memory", id, describe(e))};
            converter->convert(e.gpa, e.size, e.to_private);
            return std::nullopt;
        },
        [&](const Unknown& e) -> std::optional<StopRequest> {
            return StopRequest{ExitReason::emulation_failure, fmt::format("unhandled KVM exit reason {} on vCPU {}", e.reason, id)};
        },
    }, exit);
}

struct VcpuRunner::State {
    std::mutex mutex;
    std::condition_variable changed;
    std::optional<StopRequest> stop;
    std::vector<pthread_t> threads;
    std::vector<bool> running;

    void request(StopRequest request) {
        std::lock_guard lock(mutex);
        if (!stop) stop = std::move(request);
        changed.notify_all();
    }
};

VcpuRunner::VcpuRunner(std::vector<Vcpu>& vcpus, ExitHandler& handler, MemoryConverter* converter)
    : vcpus_(vcpus), handler_(handler), converter_(converter), state_(std::make_shared<State>()) {}

void VcpuRunner::request_stop(StopRequest request) { state_->request(std::move(request)); }

RunResult VcpuRunner::run(std::chrono::milliseconds timeout, const std::function<bool()>& interrupted) {
    install_kick_handler();
    auto& state = *state_;
    std::vector<std::thread> threads;
    state.threads.assign(vcpus_.size(), pthread_t{});
    state.running.assign(vcpus_.size(), true);

    auto vcpu_loop = [&](std::size_t index) {
        // The thread inherits the caller's signal mask; a caller that blocks
        // the kick signal (a signalfd user) would otherwise never see its
        // vCPUs leave KVM_RUN. The mask is this thread's own.
        sigset_t kick;
        sigemptyset(&kick);
        sigaddset(&kick, kKickSignal);
        pthread_sigmask(SIG_UNBLOCK, &kick, nullptr);
        const Vcpu& vcpu = vcpus_[index];
        for (;;) {
            {
                std::lock_guard lock(state.mutex);
                if (state.stop) break;
            }
            int rc = vcpu.run_once();
            if (rc == -EINTR || rc == -EAGAIN) continue;
            std::optional<exits::VcpuExit> exit = exits::decode(*vcpu.run(), rc);
            if (!exit) {
                state.request({ExitReason::emulation_failure,
                               fmt::format("KVM_RUN on vCPU {} failed: {}", vcpu.id(), std::strerror(-rc))});
                break;
            }
            std::optional<StopRequest> stop;
            try {
                stop = dispatch_exit(vcpu, *exit, handler_, converter_);
            } catch (const std::exception& e) {
                stop = StopRequest{ExitReason::emulation_failure, e.what()};
            }
            if (stop) {
                state.request(std::move(*stop));
                break;
            }
        }
        std::lock_guard lock(state.mutex);
        state.running[index] = false;
        state.changed.notify_all();
    };

    for (std::size_t i = 0; i < vcpus_.size(); ++i) {
        threads.emplace_back(vcpu_loop, i);
        state.threads[i] = threads.back().native_handle();
    }

    {
        std::unique_lock lock(state.mutex);
        auto stopped = [&] { return state.stop.has_value(); };
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        // Without a poll the wait sleeps until a stop or the deadline; with
        // one it wakes every kPollInterval to ask, outside the lock (the
        // callback may run Python signal handlers).
        constexpr std::chrono::milliseconds kPollInterval{20};
        for (;;) {
            auto until = timeout.count() > 0 ? deadline : std::chrono::steady_clock::time_point::max();
            if (interrupted) until = std::min(until, std::chrono::steady_clock::now() + kPollInterval);
            if (until == std::chrono::steady_clock::time_point::max()) state.changed.wait(lock, stopped);
            else state.changed.wait_until(lock, until, stopped);
            if (state.stop) break;
            if (timeout.count() > 0 && std::chrono::steady_clock::now() >= deadline) {
                state.stop = StopRequest{ExitReason::timeout,
                                         fmt::format("the guest did not stop within {} ms", timeout.count())};
                break;
            }
            if (interrupted) {
                lock.unlock();
                bool stop = true;  // a poll that throws cannot say "go on"
                try {
                    stop = interrupted();
                } catch (...) {
                }
                lock.lock();
                if (stop && !state.stop) state.stop = StopRequest{ExitReason::interrupted, "the caller interrupted the run"};
                if (state.stop) break;
            }
        }
    }

    // Kick every vCPU still inside KVM_RUN until all threads have left.
    for (;;) {
        bool any = false;
        {
            std::lock_guard lock(state.mutex);
            for (std::size_t i = 0; i < vcpus_.size(); ++i) {
                if (!state.running[i]) continue;
                any = true;
                vcpus_[i].run()->immediate_exit = 1;
                pthread_kill(state.threads[i], kKickSignal);
            }
        }
        if (!any) break;
        std::unique_lock lock(state.mutex);
        state.changed.wait_for(lock, std::chrono::milliseconds(5));
    }
    for (auto& t : threads) t.join();

    std::lock_guard lock(state.mutex);
    return RunResult{state.stop->reason, state.stop->detail};
}

} // namespace cvm
