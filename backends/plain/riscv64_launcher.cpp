// The plain riscv64 launch: a plan of libcvm's riscv64 machine on ordinary
// KVM. The machine is what its device tree describes: RAM, the harts with
// their local interrupt controllers and KVM's SBI (TIME, IPI, RFENCE, HSM
// for secondary harts, SRST for power-off and reset, reported as system
// events), and one polled 16550 on MMIO as the console; the SBI Debug
// Console (earlycon=sbi) writes to the same console.
#include <linux/kvm.h>
#include <optional>

#include <fmt/format.h>

#include "backends/plain/plain_config.hpp"
#include "backends/plain/plain_launcher.hpp"
#include "backends/plain/riscv64_vcpu.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/overloaded.hpp"
#include "libcvm/devices/bus.hpp"
#include "libcvm/devices/sbi_console.hpp"
#include "libcvm/devices/serial_16550.hpp"
#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/kvm.hpp"
#include "libcvm/kvm/mmio_exit_handler.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"
#include "libcvm/plan/config_codec.hpp"
#include "libcvm/riscv64/machine.hpp"

namespace cvm::riscv64 {

RunResult launch_plain(const LaunchPlan& plan, const RunOptions& options) {
    KvmSeam& seam = options.seam ? *options.seam : system_kvm_seam();

    // Declaration order is teardown order in reverse: vCPUs before the VM,
    // the VM before /dev/kvm, guest memory last.
    GuestMemory memory;
    std::optional<KvmSystem> kvm;
    std::optional<Vm> vm;
    std::vector<Vcpu> vcpus;
    const plain::Riscv64Config* host = nullptr;  // the host values the DTB declares
    const op::AddDevice* uart = nullptr;

    for (const auto& operation : plan.operations()) {
        std::visit(overloaded{
            [&](const op::CreateVm& o) {
                host = &config_as<plain::Riscv64Config>(o, "the plain riscv64 launcher");
                kvm.emplace(seam, options.device);
                kvm->require(KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG", "a RISC-V launch");
                vm.emplace(kvm->create_vm(0));
            },
            [&](const op::AddMemory& o) { add_memory_slot(vm ? &*vm : nullptr, memory, o); },
            [&](const op::LoadData& o) { copy_load(memory, o); },
            [&](const op::AddDevice& o) {
                // The machine's console; its tree gives it no interrupt.
                if (o.kind != DeviceKind::uart_16550 || uart || o.regions.size() != 1 || o.interrupt)
                    throw Error(fmt::format("the plain riscv64 launcher cannot provide a {} device", op::to_string(o.kind)));
                uart = &o;
            },
            [&](const op::CreateVcpus& o) {
                if (!vm) throw Error("the plan creates vCPUs before creating the VM");
                // KVM keeps every vCPU but 0 powered off until the guest
                // starts it with SBI HSM HART_START, which KVM serves itself
                // (kvm_arch_vcpu_postcreate, arch/riscv/kvm/vcpu.c).
                for (unsigned id = 0; id < o.count; ++id) vcpus.push_back(vm->create_vcpu(id));
                check_host_values(vcpus.front(), host->isa, host->timebase_frequency);
                // earlycon=sbi then reaches the console before the UART's
                // driver does; the SBI console answers both.
                for (const auto& vcpu : vcpus) enable_sbi_debug_console(vcpu);
            },
            [&](const op::SetRegisters& o) {
                if (o.vcpu >= vcpus.size()) throw Error(fmt::format("the plan sets registers of missing vCPU {}", o.vcpu));
                apply_registers(vcpus[o.vcpu], o);
            },
            [&](const op::Finalize&) {},
        }, operation);
    }
    if (vcpus.empty()) throw Error("the plan creates no vCPU");

    // The DTB gives the UART no interrupt: Linux polls it.
    Serial16550 serial(options.console_fd, [](bool) {});
    Bus bus("MMIO");
    if (uart) bus.add(uart->regions[0].base, uart->regions[0].size, serial);
    SbiConsole sbi(options.console_fd, &memory);
    MmioExitHandler handler(bus, &sbi);
    VcpuRunner runner(vcpus, handler);
    return runner.run(options);
}

} // namespace cvm::riscv64
