#include "backends/amd-sev/sev_launcher.hpp"

#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "backends/amd-sev/launch_config.hpp"
#include "backends/amd-sev/sev_commands.hpp"
#include "backends/amd-sev/sev_platform.hpp"
#include "backends/amd-sev/sev_vcpu.hpp"
#include "cvm/error.hpp"
#include "libcvm/devices/pc_system_control.hpp"
#include "libcvm/devices/pio_bus.hpp"
#include "libcvm/devices/serial_16550.hpp"
#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/kvm.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"

namespace cvm::sev {
namespace {

constexpr std::uint16_t kSerialPort = 0x3f8;
constexpr std::uint32_t kSerialIrq = 4;
constexpr std::uint16_t kI8042Port = 0x60;
constexpr long kCapExitHypercall = 201;     // KVM_CAP_EXIT_HYPERCALL
constexpr std::uint64_t kHcMapGpaRange = 12;  // KVM_HC_MAP_GPA_RANGE
constexpr std::uint64_t kMapGpaEncrypted = 1u << 4;  // KVM_MAP_GPA_RANGE_ENCRYPTED

// The plan's operations in the order an SEV launch accepts them.
class PlanCursor {
public:
    explicit PlanCursor(const LaunchPlan& plan) : ops_(plan.operations()), technology_(plan.technology()) {}
    template <class T> const T* take() {
        if (i_ < ops_.size()) if (const T* o = std::get_if<T>(&ops_[i_])) { ++i_; return o; }
        return nullptr;
    }
    void expect_end() const {
        if (i_ != ops_.size())
            throw Error(fmt::format("the {} launcher cannot perform operation {} ({}) at that point of the plan",
                                    technology_, i_, operation_name(ops_[i_])));
    }
    template <class T> const T& require(const char* what) {
        if (const T* o = take<T>()) return *o;
        expect_end();
        throw Error(fmt::format("the {} plan has no {}", technology_, what));
    }

private:
    const std::vector<Operation>& ops_;
    std::string technology_;
    std::size_t i_ = 0;
};

std::string_view name_of(uapi::SnpPageType type) {
    switch (type) {
    case uapi::kSnpPageNormal: return "normal";
    case uapi::kSnpPageZero: return "zero";
    case uapi::kSnpPageUnmeasured: return "unmeasured";
    case uapi::kSnpPageSecrets: return "secrets";
    case uapi::kSnpPageCpuid: return "cpuid";
    default: return "";
    }
}

uapi::SnpPageType snp_type(const op::LoadData& o) {
    for (auto t : {uapi::kSnpPageNormal, uapi::kSnpPageZero, uapi::kSnpPageUnmeasured, uapi::kSnpPageSecrets,
                   uapi::kSnpPageCpuid})
        if (o.page_type == name_of(t)) return t;
    throw Error(fmt::format("'{}' has SNP page type '{}', which the launcher does not know", o.label, o.page_type));
}

void set_private(const Vm& vm, std::uint64_t gpa, std::uint64_t size, bool is_private) {
    uapi::MemoryAttributes attributes{gpa, size, is_private ? uapi::kMemoryAttributePrivate : 0, 0};
    vm.ioctl(uapi::kSetMemoryAttributes, &attributes, "KVM_SET_MEMORY_ATTRIBUTES");
}

class SevExitHandler final : public ExitHandler {
public:
    SevExitHandler(const Vm& vm, PioBus& bus, bool snp) : vm_(vm), bus_(bus), snp_(snp) {}

    void request(ExitReason reason, std::string detail) {
        std::lock_guard lock(mutex_);
        if (!stop_) stop_ = StopRequest{reason, std::move(detail)};
    }

    std::optional<StopRequest> on_exit(const Vcpu& vcpu, exits::DeviceExit& exit) override {
        if (auto* io = std::get_if<exits::PortIo>(&exit)) {
            bus_.handle(*io);
            std::lock_guard lock(mutex_);
            return stop_;
        }
        auto* call = std::get_if<exits::Hypercall>(&exit);
        if (call && snp_ && call->nr == kHcMapGpaRange) {
            // The guest converts pages between private and shared.
            std::uint64_t gpa = call->args[0], pages = call->args[1];
            set_private(vm_, gpa, pages * 4096, (call->args[2] & kMapGpaEncrypted) != 0);
            *call->ret = 0;
            return std::nullopt;
        }
        return unhandled(vcpu, exit);
    }

private:
    const Vm& vm_;
    PioBus& bus_;
    bool snp_;
    std::mutex mutex_;
    std::optional<StopRequest> stop_;
};

} // namespace

RunResult launch_sev(const LaunchPlan& plan, const RunOptions& options) {
    const LaunchConfig config = config_of(plan);
    const bool snp = config.mode == Mode::snp;
    KvmSeam& seam = options.seam ? *options.seam : system_kvm_seam();
    PlanCursor cursor(plan);
    cursor.require<op::CreateVm>("create-vm");

    // Declaration order is the reverse of teardown: vCPUs, then the VM, the
    // platform fds, and guest memory last.
    GuestMemory memory;
    std::optional<KvmSystem> kvm;
    UniqueFd sev_device;
    std::vector<UniqueFd> guest_memfds;
    std::optional<Vm> vm;
    std::vector<Vcpu> vcpus;

    kvm.emplace(seam, options.device);
    int sev_fd = seam.open(kSevDevice, O_RDWR | O_CLOEXEC);
    if (sev_fd < 0) throw Error("cannot open the SEV platform device", -sev_fd, kSevDevice);
    sev_device = UniqueFd(sev_fd);
    const PlatformStatus status = platform_status(seam, sev_fd);
    if (config.mode == Mode::es && !status.es_enabled())
        throw Error("the SEV firmware does not have SEV-ES enabled (PLATFORM_STATUS flags)", 0, kSevDevice);

    unsigned long vm_type = uapi::kVmTypeDefault;
    if (config.init == InitKind::init2)
        vm_type = snp ? uapi::kVmTypeSnp : config.mode == Mode::es ? uapi::kVmTypeSevEs : uapi::kVmTypeSev;
    vm.emplace(kvm->create_vm(vm_type));
    vm->ioctl(KVM_CREATE_IRQCHIP, nullptr, "KVM_CREATE_IRQCHIP");
    const SevChannel channel(*vm, sev_fd);

    // Memory, then LAUNCH_START, then the measured contents.
    std::uint32_t slot = 0;
    std::optional<SevNew> sev_new;
    std::optional<SnpNew> snp_new;
    if (snp) {
        snp_new.emplace(SnpNew::init(channel, config.sev_features));
        kvm_enable_cap cap{};
        cap.cap = kCapExitHypercall;
        cap.args[0] = 1ull << kHcMapGpaRange;
        vm->ioctl(KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL)");
    } else {
        sev_new.emplace(SevNew::init(channel, config.mode, config.init));
    }
    while (const auto* o = cursor.take<op::AddMemory>()) {
        if (!o->confidential) throw Error(fmt::format("'{}' is shared memory, which the SEV plan model has none of", o->label));
        const auto& region = memory.add(o->gpa, o->size);
        std::span<std::uint8_t> host(region.host.bytes(), o->size);
        if (snp) {
            uapi::CreateGuestMemfd create{};
            create.size = o->size;
            int fd = vm->ioctl(uapi::kCreateGuestMemfd, &create, "KVM_CREATE_GUEST_MEMFD");
            guest_memfds.emplace_back(fd);
            uapi::UserspaceMemoryRegion2 r{};
            r.slot = slot++;
            r.flags = uapi::kMemGuestMemfd;
            r.guest_phys_addr = o->gpa;
            r.memory_size = o->size;
            r.userspace_addr = reinterpret_cast<std::uint64_t>(host.data());
            r.guest_memfd = static_cast<std::uint32_t>(fd);
            vm->ioctl(uapi::kSetUserMemoryRegion2, &r, "KVM_SET_USER_MEMORY_REGION2");
        } else {
            vm->set_user_memory_region(slot++, o->gpa, o->size, host.data());
            channel.register_region(host);
        }
    }

    std::vector<kvm_cpuid_entry2> cpuid;
    if (config.mode != Mode::sev) cpuid = supported_cpuid(*kvm);
    std::optional<SevStarted> sev_started;
    std::optional<SnpStarted> snp_started;
    if (snp) snp_started.emplace(std::move(*snp_new).start(config.policy));
    else {
        Payload owner_dh_cert, owner_session;  // none: the firmware makes the transport keys
        if (!config.owner_session.empty()) {
            owner_dh_cert = Payload::map_file(config.owner_dh_cert);
            owner_session = Payload::map_file(config.owner_session);
        }
        sev_started.emplace(std::move(*sev_new).start(static_cast<std::uint32_t>(config.policy), owner_dh_cert.bytes(),
                                                      owner_session.bytes()));
    }

    while (const auto* o = cursor.take<op::LoadData>()) {
        if (!o->measured) throw Error(fmt::format("'{}' is unmeasured; an SEV guest's memory is all measured", o->label));
        auto bytes = o->data.bytes();
        auto host = memory.at(o->gpa, bytes.size());
        std::memcpy(host.data(), bytes.data(), bytes.size());
        if (snp) {
            auto type = snp_type(*o);
            // The PSP checks the CPUID page against the hardware; its
            // contents are not measured, so they come from this host's KVM.
            if (type == uapi::kSnpPageCpuid) fill_snp_cpuid_page(host, cpuid);
            set_private(*vm, o->gpa, bytes.size(), true);
            snp_started->update(o->gpa, host, type);
        } else {
            sev_started->update_data(host);
        }
    }

    const auto& create = cursor.require<op::CreateVcpus>("create-vcpus");
    for (unsigned id = 0; id < create.count; ++id) {
        vcpus.push_back(vm->create_vcpu(id));
        if (!cpuid.empty()) set_cpuid(vcpus.back(), cpuid);
    }
    while (const auto* o = cursor.take<op::SetRegisters>()) {
        if (o->vcpu >= vcpus.size()) throw Error(fmt::format("the plan sets registers of missing vCPU {}", o->vcpu));
        apply_registers(vcpus[o->vcpu], *o);
    }
    cursor.require<op::Finalize>("finalize");
    cursor.expect_end();

    std::string measurement;
    if (snp) {
        std::move(*snp_started).finish({});
    } else {
        if (config.mode == Mode::es) sev_started->update_vmsa();
        SevMeasured measured = std::move(*sev_started).measure();
        measurement = to_hex(measured.measurement());
        std::move(measured).finish();
    }

    PioBus bus;
    const Vm& machine = *vm;
    SevExitHandler handler(machine, bus, snp);
    auto stop = [&handler](ExitReason reason, std::string detail) { handler.request(reason, std::move(detail)); };
    Serial16550 serial(options.console_fd, [&machine](bool level) { machine.irq_line(kSerialIrq, level); });
    I8042 i8042(stop);
    bus.add(kSerialPort, 8, serial);
    bus.add(kI8042Port, I8042::kLength, i8042);
    VcpuRunner runner(vcpus, handler);
    RunResult result = runner.run(options.timeout);
    if (!measurement.empty()) result.detail += fmt::format(" (LAUNCH_MEASURE {})", measurement);
    return result;
}

} // namespace cvm::sev
