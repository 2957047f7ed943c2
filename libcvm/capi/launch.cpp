// cvm_launch: running a plan on KVM with the backend's launcher.
#include <optional>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/capi/adopted_vm_seam.hpp"
#include "libcvm/capi/handles.hpp"
#include "libcvm/capi/status.hpp"

using cvm::capi::fail;
using cvm::capi::guarded;

namespace {

static_assert(CVM_EXIT_POWER_OFF == static_cast<int>(cvm::ExitReason::power_off));
static_assert(CVM_EXIT_RESET == static_cast<int>(cvm::ExitReason::reset));
static_assert(CVM_EXIT_TRIPLE_FAULT == static_cast<int>(cvm::ExitReason::triple_fault));
static_assert(CVM_EXIT_EMULATION_FAILURE == static_cast<int>(cvm::ExitReason::emulation_failure));
static_assert(CVM_EXIT_TIMEOUT == static_cast<int>(cvm::ExitReason::timeout));
static_assert(CVM_EXIT_INTERRUPTED == static_cast<int>(cvm::ExitReason::interrupted));
static_assert(std::atomic<int>::is_always_lock_free);  // cvm_launch_interrupt from a signal handler

cvm::RunResult run_in_adopted_vm(const cvm_launch& launch, const cvm_plan& plan) {
    cvm::capi::AdoptedVmSeam seam(cvm::system_kvm_seam(), launch.vm_fd, launch.vm_type);
    cvm::RunOptions options = launch.options;
    options.seam = &seam;
    try {
        return plan.backend->launch(plan.plan, options);
    } catch (const cvm::Error&) {
        // The launcher only saw an errno; say why the caller's VM was refused.
        if (!seam.refusal().empty()) throw cvm::Error(seam.refusal(), 0, "vm fd");
        throw;
    }
}

} // namespace

extern "C" {

cvm_status cvm_launch_new(cvm_launch** out) {
    CVM_REQUIRE(out);
    return guarded([&] { *out = new cvm_launch; });
}

void cvm_launch_free(cvm_launch* launch) { delete launch; }

cvm_status cvm_launch_set_console_fd(cvm_launch* launch, int fd) {
    CVM_REQUIRE(launch);
    if (fd < 0) return fail(CVM_ERR_ARGUMENT, fmt::format("console fd {} is negative", fd).c_str());
    launch->options.console_fd = fd;
    return CVM_OK;
}

cvm_status cvm_launch_set_timeout_ms(cvm_launch* launch, uint64_t milliseconds) {
    CVM_REQUIRE(launch);
    launch->options.timeout = std::chrono::milliseconds(milliseconds);
    return CVM_OK;
}

cvm_status cvm_launch_set_device(cvm_launch* launch, const char* path) {
    CVM_REQUIRE(launch);
    CVM_REQUIRE(path);
    return guarded([&] { launch->options.device = path; });
}

cvm_status cvm_launch_set_vm_fd(cvm_launch* launch, int vm_fd, unsigned long machine_type) {
    CVM_REQUIRE(launch);
    if (vm_fd < -1) return fail(CVM_ERR_ARGUMENT, fmt::format("VM fd {} is invalid", vm_fd).c_str());
    launch->vm_fd = vm_fd;
    launch->vm_type = machine_type;
    return CVM_OK;
}

void cvm_launch_interrupt(cvm_launch* launch) {
    if (launch) launch->interrupt.store(1);
}

cvm_status cvm_launch_run(cvm_launch* launch, const cvm_plan* plan) {
    CVM_REQUIRE(launch);
    CVM_REQUIRE(plan);
    launch->options.interrupted = [launch] { return launch->interrupt.load() != 0; };
    return guarded([&] {
        launch->result.reset();
        launch->result = launch->vm_fd >= 0 ? run_in_adopted_vm(*launch, *plan)
                                            : plan->backend->launch(plan->plan, launch->options);
    });
}

cvm_exit_reason cvm_launch_exit_reason(const cvm_launch* launch) {
    return launch && launch->result ? static_cast<cvm_exit_reason>(launch->result->reason) : CVM_EXIT_POWER_OFF;
}

const char* cvm_launch_exit_detail(const cvm_launch* launch) {
    return launch && launch->result ? launch->result->detail.c_str() : "";
}

const char* cvm_exit_reason_name(cvm_exit_reason reason) {
    switch (reason) {
    case CVM_EXIT_POWER_OFF: return "power-off";
    case CVM_EXIT_RESET: return "reset";
    case CVM_EXIT_TRIPLE_FAULT: return "triple-fault";
    case CVM_EXIT_EMULATION_FAILURE: return "emulation-failure";
    case CVM_EXIT_TIMEOUT: return "timeout";
    case CVM_EXIT_INTERRUPTED: return "interrupted";
    }
    return "unknown";
}

} // extern "C"
