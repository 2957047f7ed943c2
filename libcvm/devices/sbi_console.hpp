// The SBI calls a RISC-V guest makes that KVM forwards to userspace
// (KVM_EXIT_RISCV_SBI): the legacy v0.1 console, which KVM forwards when
// the host kernel has CONFIG_RISCV_SBI_V01, and anything in the
// experimental and vendor ranges, which nothing on libcvm's machines
// implements. Every other SBI extension a Linux guest uses (TIME, IPI,
// RFENCE, HSM, SRST) is served inside KVM.
#pragma once

#include <mutex>

#include "libcvm/kvm/vcpu_exit.hpp"

namespace cvm {

class SbiConsole {
public:
    explicit SbiConsole(int console_fd) : console_fd_(console_fd) {}
    // Answers the call through sbi.ret: putchar writes to the console,
    // getchar reports no input, anything else SBI_ERR_NOT_SUPPORTED.
    void handle(exits::RiscvSbi& sbi);

private:
    int console_fd_;
    std::mutex mutex_;
};

} // namespace cvm
