// The plain arm64 launch: a plan of libcvm's arm64 machine on ordinary KVM.
// The machine is what the plan's device records (and so its device tree)
// describe: RAM, the in-kernel GICv3 and arch timer, KVM's own PSCI (CPU_ON
// for secondaries, SYSTEM_OFF and SYSTEM_RESET reported as system events),
// and the MMIO devices (in libcvm's machine one 16550 UART).
#include <linux/kvm.h>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "backends/plain/arm64_vcpu.hpp"
#include "backends/plain/plain_config.hpp"
#include "backends/plain/plain_launcher.hpp"
#include "cvm/error.hpp"
#include "libcvm/arm64/libcvm_machine.hpp"
#include "libcvm/arm64/mmio_devices.hpp"
#include "libcvm/arm64/vgic.hpp"
#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/kvm.hpp"
#include "libcvm/kvm/mmio_exit_handler.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"
#include "libcvm/plan/config_codec.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm::arm64 {
namespace {


} // namespace

RunResult launch_plain(const LaunchPlan& plan, const RunOptions& options) {
    KvmSeam& seam = options.seam ? *options.seam : system_kvm_seam();

    // Declaration order is teardown order in reverse: vCPUs and the GIC go
    // before the VM, the VM before /dev/kvm, guest memory last.
    GuestMemory memory;
    std::optional<KvmSystem> kvm;
    std::optional<Vm> vm;
    std::optional<Vgic> gic;
    std::vector<Vcpu> vcpus;
    const op::AddDevice* gic_record = nullptr;
    std::vector<const op::AddDevice*> bus_devices;

    for (const auto& operation : plan.operations()) {
        std::visit(overloaded{
            [&](const op::CreateVm& o) {
                const unsigned ipa_bits = config_as<plain::Arm64Config>(o, "the plain arm64 launcher").ipa_bits;
                kvm.emplace(seam, options.device);
                kvm->require(KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2", "the plain arm64 backend");
                kvm->require(KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG", "the plain arm64 backend");
                kvm->require(KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL", "the plain arm64 backend");
                vm.emplace(kvm->create_vm(vm_type_for_ipa(*kvm, ipa_bits)));
            },
            [&](const op::AddMemory& o) { add_memory_slot(vm ? &*vm : nullptr, memory, o); },
            [&](const op::LoadData& o) { copy_load(memory, o); },
            [&](const op::AddDevice& o) {
                if (o.kind == DeviceKind::gic_v3 && !gic_record) gic_record = &o;
                else if (is_mmio_device(o.kind)) bus_devices.push_back(&o);
                else throw Error(fmt::format("the plain arm64 launcher cannot provide a {} device (one GICv3, no ITS)",
                                             op::to_string(o.kind)));
            },
            [&](const op::CreateVcpus& o) {
                if (!vm) throw Error("the plan creates vCPUs before creating the VM");
                if (!gic_record) throw Error("the plain arm64 plan has no GICv3 before its vCPUs");
                vcpus = create_vcpus(*vm, o.count);
                // The vGIC is initialised once every vCPU exists.
                gic.emplace(create_vgic(*vm, *gic_record, nullptr, o.count));
            },
            [&](const op::SetRegisters& o) {
                if (o.vcpu >= vcpus.size()) throw Error(fmt::format("the plan sets registers of missing vCPU {}", o.vcpu));
                apply_registers(vcpus[o.vcpu], o);
            },
            [&](const op::Finalize&) {},
        }, operation);
    }
    if (vcpus.empty()) throw Error("the plan creates no vCPU");

    MmioDevices devices(bus_devices, *vm, options.console_fd, "the plain arm64 launcher");
    MmioExitHandler handler(devices.bus());
    VcpuRunner runner(vcpus, handler);
    return runner.run(options);
}

} // namespace cvm::arm64
