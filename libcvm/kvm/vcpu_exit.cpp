#include "libcvm/kvm/vcpu_exit.hpp"
#include "libcvm/core/overloaded.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace cvm::exits {
namespace {

// The exit union of kvm_run starts right after apic_base; Debian 12's 6.1
// headers do not name the memory_fault member, so it is read at its offset
// (struct { __u64 flags, gpa, size; } memory_fault, Linux 6.8).
struct MemoryFaultRecord {
    std::uint64_t flags;
    std::uint64_t gpa;
    std::uint64_t size;
};
static_assert(offsetof(kvm_run, hw) == 32);

MemoryFault memory_fault(const kvm_run& run) {
    MemoryFaultRecord record;
    std::memcpy(&record, &run.hw, sizeof record);
    return MemoryFault{record.gpa, record.size, (record.flags & kMemoryExitFlagPrivate) != 0};
}

} // namespace

std::optional<VcpuExit> decode(kvm_run& run, int run_rc) {
    if (run_rc == -EFAULT && run.exit_reason == kExitMemoryFault) return memory_fault(run);
    if (run_rc != 0) return std::nullopt;
    switch (run.exit_reason) {
    case KVM_EXIT_IO: {
        auto* data = reinterpret_cast<std::uint8_t*>(&run) + run.io.data_offset;
        return PortIo{run.io.port, run.io.direction == KVM_EXIT_IO_OUT, run.io.size, run.io.count, data};
    }
    case KVM_EXIT_MMIO: {
        const std::size_t len = std::min<std::size_t>(run.mmio.len, sizeof run.mmio.data);
        return Mmio{run.mmio.phys_addr, run.mmio.is_write != 0, std::span<std::uint8_t>(run.mmio.data, len)};
    }
    case KVM_EXIT_HYPERCALL: {
        Hypercall call;
        call.nr = run.hypercall.nr;
        std::copy(std::begin(run.hypercall.args), std::end(run.hypercall.args), call.args.begin());
        call.ret = &run.hypercall.ret;
        return call;
    }
    case KVM_EXIT_RISCV_SBI: {
        RiscvSbi call;
        call.extension = run.riscv_sbi.extension_id;
        call.function = run.riscv_sbi.function_id;
        std::copy(std::begin(run.riscv_sbi.args), std::end(run.riscv_sbi.args), call.args.begin());
        call.ret = run.riscv_sbi.ret;
        return call;
    }
    case KVM_EXIT_SYSTEM_EVENT: return SystemEvent{run.system_event.type};
    case KVM_EXIT_SHUTDOWN: return Shutdown{};
    case KVM_EXIT_HLT: return Halt{};
    case KVM_EXIT_FAIL_ENTRY: return FailEntry{run.fail_entry.hardware_entry_failure_reason};
    case KVM_EXIT_INTERNAL_ERROR: return InternalError{run.internal.suberror};
    case kExitMemoryFault: return memory_fault(run);  // a kernel that reports it with rc 0
    default: return Unknown{run.exit_reason};
    }
}

std::string describe(const VcpuExit& exit) {
    return std::visit(overloaded{
        [](const PortIo& e) {
            return fmt::format("port {} of {} x {} bytes at {:#x}", e.write ? "write" : "read", e.count, e.size, e.port);
        },
        [](const Mmio& e) {
            return fmt::format("MMIO {} of {} bytes at {:#x}", e.write ? "write" : "read", e.data.size(), e.address);
        },
        [](const Hypercall& e) { return fmt::format("hypercall {}", e.nr); },
        [](const RiscvSbi& e) { return fmt::format("SBI call {:#x}/{}", e.extension, e.function); },
        [](const SystemEvent& e) { return fmt::format("system event {}", e.type); },
        [](const Shutdown&) { return std::string("KVM_EXIT_SHUTDOWN"); },
        [](const Halt&) { return std::string("KVM_EXIT_HLT"); },
        [](const FailEntry& e) { return fmt::format("KVM_EXIT_FAIL_ENTRY (hardware reason {:#x})", e.hardware_reason); },
        [](const InternalError& e) { return fmt::format("KVM_EXIT_INTERNAL_ERROR (suberror {})", e.suberror); },
        [](const MemoryFault& e) {
            return fmt::format("memory fault at [{:#x}, {:#x}) wanting {}", e.gpa, e.gpa + e.size,
                               e.to_private ? "private" : "shared");
        },
        [](const Unknown& e) { return fmt::format("KVM exit reason {}", e.reason); },
    }, exit);
}

} // namespace cvm::exits
