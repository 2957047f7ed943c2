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
#include "cvm/sev_owner.hpp"
#include "libcvm/x86/cpuid.hpp"
#include "libcvm/x86/pc_devices.hpp"
#include "libcvm/x86/pc_exit_handler.hpp"
#include "libcvm/x86/vcpu_registers.hpp"
#include "cvm/error.hpp"
#include "libcvm/devices/pc_system_control.hpp"
#include "libcvm/devices/bus.hpp"
#include "libcvm/devices/serial_16550.hpp"
#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/kvm.hpp"
#include "libcvm/kvm/private_memory.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"

namespace cvm::sev {
namespace {


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

// KVM_CAP_VM_TYPES is a mask of 1 << type (arch/x86/kvm/x86.c
// kvm_vm_ioctl_check_extension; sev.c sev_set_cpu_caps adds the SEV types).
void require_vm_type(const KvmSystem& kvm, unsigned long type, std::string_view technology) {
    if (type == uapi::kVmTypeDefault) return;
    const int mask = kvm.check_extension(kCapVmTypes);
    if (mask <= 0 || (static_cast<unsigned>(mask) & (1u << type)) == 0)
        throw Error(fmt::format("this KVM does not offer VM type {} for {} (KVM_CAP_VM_TYPES mask {:#x}); "
                                "KVM_SEV_INIT2 needs Linux 6.10, SNP 6.11, and the type enabled in kvm_amd",
                                type, technology, mask < 0 ? 0 : mask), 0, "kvm");
}

// KVM_SEV_INIT2 refuses vmsa_features outside sev_supported_vmsa_features
// with a bare EINVAL (sev.c __sev_guest_init); ask first so the error says which.
void require_vmsa_features(const KvmSystem& kvm, std::uint64_t wanted) {
    if (wanted == 0) return;
    const auto supported = kvm_vmsa_features(kvm);
    if (!supported)
        throw Error(fmt::format("VMSA features {:#x} asked for, but this KVM does not report which it supports "
                                "(KVM_GET_DEVICE_ATTR KVM_X86_SEV_VMSA_FEATURES: ENXIO)", wanted), ENXIO, "kvm");
    if (wanted & ~*supported)
        throw Error(fmt::format("VMSA features {:#x} asked for; this KVM supports {:#x} (missing {:#x})", wanted,
                                *supported, wanted & ~*supported), 0, "kvm");
}

// SNP guests convert pages through KVM_HC_MAP_GPA_RANGE, which KVM only
// forwards when userspace enabled it (sev.c snp_begin_psc:
// user_exit_on_hypercall); the capability answers the mask it allows.
void enable_map_gpa_range_exit(const Vm& vm) {
    const int allowed = vm.check_extension(uapi::kCapExitHypercall);
    if (allowed <= 0 || (static_cast<std::uint64_t>(allowed) & (1ull << x86::kHcMapGpaRange)) == 0)
        throw Error(fmt::format("this KVM does not forward KVM_HC_MAP_GPA_RANGE to userspace (KVM_CAP_EXIT_HYPERCALL "
                                "mask {:#x}), which SNP page-state changes need", allowed < 0 ? 0 : allowed), 0, "kvm");
    kvm_enable_cap cap{};
    cap.cap = uapi::kCapExitHypercall;
    cap.args[0] = 1ull << x86::kHcMapGpaRange;
    vm.ioctl(KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL)");
}

// SNP_LAUNCH_UPDATE of the CPUID page: if the firmware refuses it, the
// kernel has copied the corrected page back over `page` (sev.c
// sev_gmem_post_populate, for SEV_RET_INVALID_PARAM); say which leaves the
// firmware changed rather than only that it refused.
void update_cpuid_page(const SnpStarted& snp, std::uint64_t gpa, std::span<std::uint8_t> page) {
    const std::vector<std::uint8_t> ours(page.begin(), page.end());
    try {
        snp.update(gpa, page, uapi::kSnpPageCpuid);
    } catch (const SnpUpdateError& e) {
        if (e.fw_error() != SEV_RET_INVALID_PARAM) throw;
        const auto changes = cpuid_page_changes(ours, page);
        throw Error(fmt::format("the SNP firmware refused the CPUID page at {:#x}: {}", gpa,
                                changes.empty() ? std::string("it changed nothing KVM reported")
                                                : fmt::format("{}", fmt::join(changes, "; "))),
                    e.err(), "kvm");
    }
}

// The guest owner's round trip between LAUNCH_MEASURE and LAUNCH_FINISH:
// the owner sees the blob and the platform's version, checks the launch
// digest it predicted, and answers with a LAUNCH_SECRET packet, nothing, or
// a refusal (the launch then fails before the guest ever runs).
void owner_round_trip(const RunOptions& options, const LaunchConfig& config, const PlatformStatus& status,
                      const SevMeasured& measured, const GuestMemory& memory) {
    SecretRequest request;
    request.technology = std::string(technology_name(config.mode));
    request.measure = measured.measurement();
    request.version = {status.api_major, status.api_minor, status.build};
    request.policy = static_cast<std::uint32_t>(config.policy);
    request.secret_gpa = config.secret_gpa;
    request.secret_size = config.secret_size;
    const SecretReply reply = parse_secret_reply(options.owner(to_json(request)));
    switch (reply.action) {
    case SecretReply::Action::finish: return;
    case SecretReply::Action::abort:
        throw Error(fmt::format("the guest owner refused the launch: {}", reply.reason.empty() ? "no reason given" : reply.reason),
                    0, "owner");
    case SecretReply::Action::inject: break;
    }
    const std::uint64_t size = reply.packet.ciphertext.size();
    std::uint64_t gpa = 0;
    if (reply.gpa) {
        gpa = *reply.gpa;
    } else if (config.secret_gpa) {
        gpa = *config.secret_gpa;
        if (size > *config.secret_size)
            throw Error(fmt::format("the guest owner's secret has {} bytes; the firmware's secret area at {:#x} holds {}",
                                    size, gpa, *config.secret_size), 0, "owner");
    } else {
        throw Error("the guest owner sent a secret without a GPA, and the firmware has no SEV secret area", 0, "owner");
    }
    measured.inject_secret(reply.packet.header, memory.at(gpa, size), reply.packet.ciphertext);
}

} // namespace

RunResult launch_sev(const LaunchPlan& plan, const RunOptions& options) {
    const LaunchConfig& config = config_of(plan);
    const bool snp = config.mode == Mode::snp;
    if (snp) refuse_owner_round_trip(options, technology_name(config.mode));
    KvmSeam& seam = options.seam ? *options.seam : system_kvm_seam();
    PlanCursor cursor(plan);
    cursor.require<op::CreateVm>("create-vm");

    // Declaration order is the reverse of teardown: vCPUs, the private
    // memory slots, the VM, the platform fds, and guest memory last.
    GuestMemory memory;
    std::optional<KvmSystem> kvm;
    UniqueFd sev_device;
    std::optional<Vm> vm;
    std::optional<PrivateMemory> private_memory;
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
    require_vm_type(*kvm, vm_type, technology_name(config.mode));
    if (snp) require_vmsa_features(*kvm, config.sev_features & ~std::uint64_t{1});  // bit 0 is KVM's own
    vm.emplace(kvm->create_vm(vm_type));
    // The in-kernel devices first, as QEMU creates its irqchip with the VM.
    std::vector<const op::AddDevice*> devices;
    for (const auto& operation : plan.operations())
        if (const auto* d = std::get_if<op::AddDevice>(&operation)) devices.push_back(d);
    x86::create_in_kernel_devices(*vm, devices, "the SEV launcher");
    const SevChannel channel(*vm, sev_fd);

    // Memory, then LAUNCH_START, then the measured contents.
    std::uint32_t slot = 0;
    std::optional<SevNew> sev_new;
    std::optional<SnpNew> snp_new;
    if (snp) {
        snp_new.emplace(SnpNew::init(channel, config.sev_features));
        enable_map_gpa_range_exit(*vm);
        private_memory.emplace(*vm, memory);
    } else {
        sev_new.emplace(SevNew::init(channel, config.mode, config.init));
    }
    while (const auto* o = cursor.take<op::AddMemory>()) {
        if (!o->confidential) throw Error(fmt::format("'{}' is shared memory, which the SEV plan model has none of", o->label));
        if (snp) {
            // All of an SNP guest's RAM starts private, as QEMU makes every
            // guest_memfd RAM block at slot creation (kvm_set_phys_mem ->
            // kvm_set_memory_attributes_private): OVMF accepts it as such and
            // converts what it shares through KVM_HC_MAP_GPA_RANGE.
            private_memory->add(o->gpa, o->size, true);
        } else {
            const auto& region = memory.add(o->gpa, o->size);
            std::span<std::uint8_t> host(region.host.bytes(), o->size);
            vm->set_user_memory_region(slot++, o->gpa, o->size, host.data());
            channel.register_region(host);
        }
    }

    // Every mode's vCPUs get CPUID: without KVM_SET_CPUID2 a vCPU reports
    // none, and OVMF's reset vector, finding no CPUID 0x8000001f, decides the
    // guest is not an SEV guest. SNP's are masked as its CPUID page is.
    std::vector<kvm_cpuid_entry2> cpuid = x86::supported_cpuid(*kvm);
    if (snp) mask_cpuid_for_snp(cpuid);
    std::optional<SevStarted> sev_started;
    std::optional<SnpStarted> snp_started;
    if (snp) snp_started.emplace(std::move(*snp_new).start(config.policy));
    else {
        // Empty: the firmware makes the transport keys.
        sev_started.emplace(std::move(*sev_new).start(static_cast<std::uint32_t>(config.policy),
                                                      ByteSpan(config.owner_dh_cert), ByteSpan(config.owner_session)));
    }

    while (cursor.take<op::AddDevice>()) {
        // Gathered above; made real in-kernel there and on the bus below.
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
            if (type == uapi::kSnpPageCpuid) {
                fill_snp_cpuid_page(host, cpuid);
                update_cpuid_page(*snp_started, o->gpa, host);
            } else {
                snp_started->update(o->gpa, host, type);
            }
        } else {
            sev_started->update_data(host);
        }
    }

    const auto& create = cursor.require<op::CreateVcpus>("create-vcpus");
    for (unsigned id = 0; id < create.count; ++id) {
        vcpus.push_back(vm->create_vcpu(id));
        x86::set_cpuid(vcpus.back(), cpuid);
    }
    while (const auto* o = cursor.take<op::SetRegisters>()) {
        if (o->vcpu >= vcpus.size()) throw Error(fmt::format("the plan sets registers of missing vCPU {}", o->vcpu));
        x86::apply_registers(vcpus[o->vcpu], *o);
    }
    cursor.require<op::Finalize>("finalize");
    cursor.expect_end();

    std::string measurement;
    if (snp) {
        std::array<std::uint8_t, kSnpHostDataSize> host_data{};
        std::copy(config.host_data.begin(), config.host_data.end(), host_data.begin());
        std::move(*snp_started).finish(host_data, config.id_block, config.id_auth, config.author_key_en());
    } else {
        if (config.mode == Mode::es) sev_started->update_vmsa();
        SevMeasured measured = std::move(*sev_started).measure();
        measurement = to_hex(measured.measurement());
        if (options.owner) owner_round_trip(options, config, status, measured, memory);
        std::move(measured).finish();
    }

    MemoryConverter* converter = snp ? &*private_memory : nullptr;
    StopLatch latch;
    x86::PcDevices pc(devices, *vm, options.console_fd, latch,
                      [&memory](std::uint64_t gpa, std::uint64_t size) { return memory.at(gpa, size); },
                      "the SEV launcher");
    x86::PcExitHandler handler(pc.bus(), latch, converter);
    // Memory faults (an SNP guest touching a page with the other attribute)
    // are converted by the runner through the same PrivateMemory.
    VcpuRunner runner(vcpus, handler, converter);
    RunResult result = runner.run(options);
    if (!measurement.empty()) result.detail += fmt::format(" (LAUNCH_MEASURE {})", measurement);
    return result;
}

} // namespace cvm::sev
