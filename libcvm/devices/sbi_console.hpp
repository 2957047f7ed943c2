// The SBI calls a RISC-V guest makes that KVM forwards to userspace
// (KVM_EXIT_RISCV_SBI) and that are a console: the legacy v0.1 putchar and
// getchar, which KVM forwards when the host kernel has
// CONFIG_RISCV_SBI_V01, and the Debug Console extension (DBCN, SBI v2.0
// chapter 12), which KVM forwards once userspace enables it (Linux 6.8).
// Anything else forwarded (the vendor and experimental ranges) is answered
// SBI_ERR_NOT_SUPPORTED. Every other SBI extension a Linux guest uses (TIME,
// IPI, RFENCE, HSM, SRST) is served inside KVM.
#pragma once

#include <cstdint>
#include <mutex>

#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/vcpu_exit.hpp"

namespace cvm {

class SbiConsole {
public:
    // DBCN's console_write reads the guest's buffer from `memory`; without
    // it (a confidential guest's memory is not the VMM's to read) only the
    // byte-at-a-time calls work.
    explicit SbiConsole(int console_fd, const GuestMemory* memory = nullptr)
        : console_fd_(console_fd), memory_(memory) {}
    // Answers the call through sbi.ret (ret[0] the SBI error, ret[1] the value).
    void handle(exits::RiscvSbi& sbi);

    static constexpr unsigned long kDbcnExtension = 0x4442434E;  // "DBCN"

private:
    void emit(const void* bytes, std::size_t count);

    int console_fd_;
    const GuestMemory* memory_;
    std::mutex mutex_;
};

} // namespace cvm
