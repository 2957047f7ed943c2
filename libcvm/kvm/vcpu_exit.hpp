// A vCPU exit as a typed value, decoded from kvm_run once, by the runner.
//
// Launchers never read kvm_run themselves: the runner decodes every exit
// into one of these types, handles the exits that mean the same thing on
// every machine (system events, shutdown, entry failure, internal error,
// memory faults that ask for a private/shared conversion, reasons nobody
// knows), and passes only device exits (port I/O, MMIO, hypercalls, SBI
// calls) to the launcher's ExitHandler. Device exits point into kvm_run:
// writing `data` or `ret` is how a device answers the guest.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include <linux/kvm.h>

namespace cvm::exits {

// KVM_EXIT_IO: `count` accesses of `size` bytes each, back to back in `data`.
struct PortIo {
    std::uint16_t port = 0;
    bool write = false;
    std::uint8_t size = 0;
    std::uint32_t count = 0;
    std::uint8_t* data = nullptr;
    std::span<std::uint8_t> access(std::uint32_t i) const { return {data + std::size_t{i} * size, size}; }
};

// KVM_EXIT_MMIO: one access of data.size() (1-8) bytes.
struct Mmio {
    std::uint64_t address = 0;
    bool write = false;
    std::span<std::uint8_t> data;
};

// KVM_EXIT_HYPERCALL (x86: only the calls userspace enabled with
// KVM_CAP_EXIT_HYPERCALL). `*ret` is what the guest's call returns.
struct Hypercall {
    std::uint64_t nr = 0;
    std::array<std::uint64_t, 6> args{};
    __u64* ret = nullptr;  // kvm_run's own type: uint64_t may be another type, and must not alias it
};

// KVM_EXIT_RISCV_SBI: an SBI call KVM forwards to userspace; ret[0] is the
// error, ret[1] the value.
struct RiscvSbi {
    unsigned long extension = 0;
    unsigned long function = 0;
    std::array<unsigned long, 6> args{};
    unsigned long* ret = nullptr;
};

// KVM_EXIT_SYSTEM_EVENT (PSCI SYSTEM_OFF/RESET on arm64, SBI SRST on
// RISC-V, the GHCB termination request of SEV-ES/SNP on x86).
struct SystemEvent {
    std::uint32_t type = 0;
};
struct Shutdown {};  // KVM_EXIT_SHUTDOWN: an x86 triple fault
struct Halt {};      // KVM_EXIT_HLT: only without an in-kernel local APIC
struct FailEntry {   // KVM_EXIT_FAIL_ENTRY
    std::uint64_t hardware_reason = 0;
};
struct InternalError {  // KVM_EXIT_INTERNAL_ERROR
    std::uint32_t suberror = 0;
};
// KVM_EXIT_MEMORY_FAULT (Linux 6.8): the guest touched [gpa, gpa+size)
// with the other private/shared attribute than the range has. KVM returns
// -EFAULT from KVM_RUN with this exit filled in (include/uapi/linux/kvm.h,
// "KVM_EXIT_MEMORY_FAULT" in Documentation/virt/kvm/api.rst); userspace
// converts the range and re-enters, as QEMU's kvm_convert_memory does.
struct MemoryFault {
    std::uint64_t gpa = 0;
    std::uint64_t size = 0;
    bool to_private = false;
};
struct Unknown {
    std::uint32_t reason = 0;
};

using DeviceExit = std::variant<PortIo, Mmio, Hypercall, RiscvSbi>;
using VcpuExit =
    std::variant<PortIo, Mmio, Hypercall, RiscvSbi, SystemEvent, Shutdown, Halt, FailEntry, InternalError,
                 MemoryFault, Unknown>;

// Linux 6.8 UAPI, newer than Debian 12's headers.
inline constexpr std::uint32_t kExitMemoryFault = 39;                // KVM_EXIT_MEMORY_FAULT
inline constexpr std::uint64_t kMemoryExitFlagPrivate = 1ull << 3;  // KVM_MEMORY_EXIT_FLAG_PRIVATE
inline constexpr std::uint32_t kSystemEventSevTerm = 6;             // KVM_SYSTEM_EVENT_SEV_TERM

// Decodes the exit KVM_RUN reported. `run_rc` is KVM_RUN's result (0 or
// -errno): a -EFAULT with exit_reason KVM_EXIT_MEMORY_FAULT is an exit, any
// other error is not (nothing is returned, the caller reports the errno).
std::optional<VcpuExit> decode(kvm_run& run, int run_rc);

// "MMIO write of 4 bytes at 0x9000000" and the like, for error messages.
std::string describe(const VcpuExit& exit);

} // namespace cvm::exits
