#include "backends/plain/plain_launcher.hpp"

#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "cvm/error.hpp"

#if defined(__x86_64__)
#include "backends/plain/x86_layout.hpp"
#include "backends/plain/x86_vcpu.hpp"
#include "libcvm/x86/cpuid.hpp"
#include "libcvm/x86/pc_devices.hpp"
#include "libcvm/x86/pc_exit_handler.hpp"
#include "libcvm/x86/vcpu_registers.hpp"
#include "libcvm/devices/pc_system_control.hpp"
#include "libcvm/devices/bus.hpp"
#include "libcvm/devices/serial_16550.hpp"
#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/kvm.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"
#include "libcvm/core/overloaded.hpp"
#endif

namespace cvm::x86 {

#if defined(__x86_64__)
namespace {

// Identity map and TSS pages that VMX needs for real mode; placed in the
// hole below 4 GiB where neither RAM nor a firmware is, where QEMU puts them.
constexpr std::uint64_t kIdentityMapAddress = 0xfeffc000;
constexpr std::uint64_t kTssAddress = 0xfeffd000;

} // namespace

RunResult launch_plain(const LaunchPlan& plan, const RunOptions& options) {
    KvmSeam& seam = options.seam ? *options.seam : system_kvm_seam();

    // Declaration order is teardown order in reverse: vCPUs and devices go
    // before the VM, the VM before /dev/kvm, guest memory last.
    GuestMemory memory;
    std::optional<KvmSystem> kvm;
    std::optional<Vm> vm;
    std::vector<Vcpu> vcpus;
    std::vector<const op::AddDevice*> devices;

    for (const auto& operation : plan.operations()) {
        std::visit(overloaded{
            [&](const op::CreateVm&) {
                kvm.emplace(seam, options.device);
                kvm->require(KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "the plain backend");
                kvm->require(KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "the plain backend");
                kvm->require(KVM_CAP_PIT2, "KVM_CAP_PIT2", "the plain backend");
                vm.emplace(kvm->create_vm(0));
                vm->ioctl_value(KVM_SET_TSS_ADDR, kTssAddress, "KVM_SET_TSS_ADDR");
                std::uint64_t identity_map = kIdentityMapAddress;
                vm->ioctl(KVM_SET_IDENTITY_MAP_ADDR, &identity_map, "KVM_SET_IDENTITY_MAP_ADDR");
            },
            [&](const op::AddMemory& o) { add_memory_slot(vm ? &*vm : nullptr, memory, o); },
            [&](const op::LoadData& o) { copy_load(memory, o); },
            [&](const op::AddDevice& o) { devices.push_back(&o); },
            [&](const op::CreateVcpus& o) {
                if (!vm) throw Error("the plan creates vCPUs before creating the VM");
                // The interrupt controllers come after the memory slots: once
                // an irqchip exists, every slot update waits for an SRCU grace
                // period, which costs milliseconds per slot.
                create_in_kernel_devices(*vm, devices, "the plain x86 launcher");
                auto cpuid = supported_cpuid(*kvm);
                for (unsigned id = 0; id < o.count; ++id) {
                    vcpus.push_back(vm->create_vcpu(id));
                    configure_vcpu(vcpus.back(), cpuid);
                }
            },
            [&](const op::SetRegisters& o) {
                if (o.vcpu >= vcpus.size()) throw Error(fmt::format("the plan sets registers of missing vCPU {}", o.vcpu));
                apply_registers(vcpus[o.vcpu], o);
            },
            [&](const op::Finalize&) {},
        }, operation);
    }
    if (vcpus.empty()) throw Error("the plan creates no vCPU");

    StopLatch latch;
    PcDevices pc(devices, *vm, options.console_fd, latch,
                 [&memory](std::uint64_t gpa, std::uint64_t size) { return memory.at(gpa, size); },
                 "the plain x86 launcher");
    PcExitHandler handler(pc.bus(), latch);
    VcpuRunner runner(vcpus, handler);
    return runner.run(options);
}

#else

RunResult launch_plain(const LaunchPlan&, const RunOptions&) {
    throw Error("the plain backend launches x86_64 guests and needs an x86_64 host");
}

#endif

} // namespace cvm::x86
