// The calls follow kvmtool's CoVE launch (rivosinc/kvmtool
// cove-integration-03072023): KVM_CREATE_VM with the TVM type; one memslot,
// which the RFC kernel registers as the TVM's confidential region; each blob
// copied into guest memory and measured with one
// KVM_RISCV_COVE_MEASURE_REGION in plan order (kernel, initrd); the vCPUs;
// the FDT, measured; pc/a0/a1 of vCPU 0 with KVM_SET_ONE_REG; and the first
// KVM_RUN, on which the kernel finalizes the TVM with that pc and a1.
#include "backends/riscv-cove/cove_launcher.hpp"

#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "backends/riscv-cove/cove_config.hpp"
#include "backends/riscv-cove/cove_uapi.hpp"
#include "cvm/error.hpp"
#include "libcvm/devices/bus.hpp"
#include "libcvm/devices/sbi_console.hpp"
#include "libcvm/devices/serial_16550.hpp"
#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/kvm.hpp"
#include "libcvm/kvm/mmio_exit_handler.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"
#include "libcvm/riscv64/aia.hpp"
#include "libcvm/riscv64/machine.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm::cove {
namespace {

std::uint64_t register_id(const std::string& name) {
    if (name == "pc") return kRegPc;
    if (name == "a0") return kRegA0;
    if (name == "a1") return kRegA1;
    throw Error(fmt::format("the riscv-cove launcher cannot set register '{}' (only pc, a0, a1)", name));
}

} // namespace

RunResult launch_cove(const LaunchPlan& plan, const RunOptions& options) {
    if (plan.technology() != "riscv-cove")
        throw Error(fmt::format("the riscv-cove launcher cannot run a '{}' plan", plan.technology()));
    KvmSeam& seam = options.seam ? *options.seam : system_kvm_seam();

    // Declaration order is teardown order in reverse: vCPUs before the VM,
    // the VM before /dev/kvm, guest memory last.
    GuestMemory memory;
    std::optional<KvmSystem> kvm;
    std::optional<Vm> vm;
    std::optional<KvmFd> aia;
    std::vector<Vcpu> vcpus;
    const op::AddDevice* imsic = nullptr;
    const op::AddDevice* pci = nullptr;
    std::optional<std::uint32_t> num_ids;

    for (const auto& operation : plan.operations()) {
        std::visit(overloaded{
            [&](const op::CreateVm& o) {
                const auto& config = config_as<TvmConfig>(o, "the riscv-cove launcher");
                config.check();
                if (config.tsm_abi != TsmAbi::v0_5)
                    throw Error(fmt::format("TSM ABI {}: the CoVE KVM interface libcvm drives (RFC 2023) is "
                                            "the v0.5 one", to_string(config.tsm_abi)));
                num_ids = config.imsic_num_ids;
                kvm.emplace(seam, options.device);
                kvm->require(KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG", "a RISC-V launch");
                vm.emplace(kvm->create_vm(kVmTypeRiscvCove));
            },
            [&](const op::AddMemory& o) {
                if (!vm) throw Error("the plan adds memory before creating the VM");
                if (!memory.regions().empty())
                    throw Error("the CoVE RFC kernel tracks one confidential region; the plan adds a second");
                const auto& region = memory.add(o.gpa, o.size);
                vm->set_user_memory_region(0, o.gpa, o.size, region.host.get());
            },
            [&](const op::LoadData& o) {
                if (!vm) throw Error("the plan loads data before creating the VM");
                if (!o.measured) throw Error(fmt::format("'{}' is unmeasured; a TVM maps only measured pages", o.label));
                auto bytes = o.data.bytes();
                auto target = memory.at(o.gpa, bytes.size());
                std::memcpy(target.data(), bytes.data(), bytes.size());
                MeasureRegion region{reinterpret_cast<std::uint64_t>(target.data()), o.gpa, bytes.size()};
                vm->ioctl(kMeasureRegion, &region, fmt::format("KVM_RISCV_COVE_MEASURE_REGION ({})", o.label));
            },
            [&](const op::CreateVcpus& o) {
                if (!vm) throw Error("the plan creates vCPUs before creating the VM");
                for (unsigned id = 0; id < o.count; ++id) vcpus.push_back(vm->create_vcpu(id));
                // The AIA needs every vCPU for its IMSIC addresses (kvmtool
                // sets it up in late_init, after the vCPUs).
                if (imsic) aia.emplace(riscv64::create_aia_imsic(*vm, *imsic, o.count, num_ids));
            },
            [&](const op::SetRegisters& o) {
                if (o.vcpu >= vcpus.size()) throw Error(fmt::format("the plan sets registers of missing vCPU {}", o.vcpu));
                for (const auto& r : o.registers) {
                    std::uint64_t value = r.value;
                    kvm_one_reg reg{register_id(r.name), reinterpret_cast<std::uint64_t>(&value)};
                    vcpus[o.vcpu].ioctl(KVM_SET_ONE_REG, &reg, fmt::format("KVM_SET_ONE_REG {}", r.name));
                }
            },
            // kvmtool's TVM devices: KVM's AIA IMSICs and a PCI host (empty
            // here: libcvm gives a TVM no virtio devices).
            [&](const op::AddDevice& o) {
                if (o.kind == DeviceKind::riscv_imsic && !imsic) imsic = &o;
                else if (o.kind == DeviceKind::pci_ecam_host && !pci) pci = &o;
                else throw Error(fmt::format("the riscv-cove launcher cannot provide a {} device", op::to_string(o.kind)));
            },
            // The RFC has no finalize call: the first KVM_RUN finalizes.
            [&](const op::Finalize&) {},
        }, operation);
    }
    if (vcpus.empty()) throw Error("the plan creates no vCPU");

    // The UART at kvmtool's address, though a TVM's DTB names none (a guest
    // that probes it gets a console); the SBI console is the TVM's own. The
    // VMM cannot read a TVM's memory, so DBCN's buffer writes are refused.
    Serial16550 uart(options.console_fd, [](bool) {});
    Bus bus("MMIO");
    bus.add(riscv64::kUartBase, riscv64::kUartSize, uart);
    if (pci)
        for (const auto& r : pci->regions) bus.add_empty(r.base, r.size);
    SbiConsole sbi(options.console_fd);
    MmioExitHandler handler(bus, &sbi);
    VcpuRunner runner(vcpus, handler);
    return runner.run(options);
}

} // namespace cvm::cove
