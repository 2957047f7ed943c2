// The first stop a device asks for (a power-off register, a reset line),
// read by the exit handler after each exit. Devices run on vCPU threads, so
// the latch is locked; only the first request counts.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "libcvm/kvm/vcpu_runner.hpp"

namespace cvm {

class StopLatch {
public:
    void request(ExitReason reason, std::string detail) {
        std::lock_guard lock(mutex_);
        if (!stop_) stop_ = StopRequest{reason, std::move(detail)};
    }
    std::optional<StopRequest> take() {
        std::lock_guard lock(mutex_);
        return stop_;
    }

private:
    std::mutex mutex_;
    std::optional<StopRequest> stop_;
};

} // namespace cvm
