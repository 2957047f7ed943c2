#include "backends/arm-cca/realm_launcher.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>
#include <unistd.h>

#include "backends/arm-cca/realm_options.hpp"
#include "backends/arm-cca/realm_plan.hpp"
#include "backends/arm-cca/rme_uapi.hpp"
#include "cvm/error.hpp"
#include "libcvm/arm64/mmio_devices.hpp"
#include "libcvm/arm64/vgic.hpp"
#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/kvm.hpp"
#include "libcvm/kvm/mmio_exit_handler.hpp"
#include "libcvm/kvm/private_memory.hpp"
#include "libcvm/kvm/vcpu_runner.hpp"
#include "libcvm/core/overloaded.hpp"

namespace cvm::cca {
namespace {

// rme_v6 is the KVM_CAP_ARM_RME ABI of host series v5, v6 and v7 (one ABI:
// rme_uapi.hpp); "rme-v7" names it too.
enum class Abi { rme_v6, rmi_v12, rmi_v13, rmi_v14 };

bool abi_is_named(Abi abi, const std::string& wanted);

const char* abi_name(Abi abi) {
    switch (abi) {
    case Abi::rme_v6: return "rme-v6";
    case Abi::rmi_v12: return "rmi-v12";
    case Abi::rmi_v13: return "rmi-v13";
    case Abi::rmi_v14: return "rmi-v14";
    }
    return "?";
}

long abi_capability(Abi abi) {
    switch (abi) {
    case Abi::rme_v6: return uapi::rme::kCapArmRme;
    case Abi::rmi_v12: return uapi::rmi::kCapArmRmiV12;
    case Abi::rmi_v13: return uapi::rmi::kCapArmRmiV13;
    case Abi::rmi_v14: return uapi::rmi::kCapArmRmiV14;
    }
    return 0;
}

// The plan, gathered: the launcher issues the ABI's calls in the ABI's
// order, while every measured step keeps the plan's order.
struct RealmRequest {
    RealmConfig realm;
    std::vector<op::AddMemory> memory;
    std::vector<op::LoadData> loads;
    unsigned vcpus = 0;
    std::vector<op::Register> boot_registers;
    const op::AddDevice* gic = nullptr;
    const op::AddDevice* its = nullptr;
    std::vector<const op::AddDevice*> bus_devices;
};

RealmRequest gather(const LaunchPlan& plan) {
    if (plan.technology() != kTechnology)
        throw Error(fmt::format("the arm-cca launcher cannot run a '{}' plan", plan.technology()));
    RealmRequest r;
    bool created = false, finalized = false;
    for (const auto& operation : plan.operations()) {
        std::visit(overloaded{
            [&](const op::CreateVm& o) {
                r.realm = planned_realm(plan, o);
                created = true;
            },
            [&](const op::AddMemory& o) { r.memory.push_back(o); },
            [&](const op::LoadData& o) { r.loads.push_back(o); },
            [&](const op::CreateVcpus& o) { r.vcpus = o.count; },
            // The layout's devices, each provided as its DTB declares it.
            [&](const op::AddDevice& o) {
                if (o.kind == DeviceKind::gic_v3 && !r.gic) r.gic = &o;
                else if (o.kind == DeviceKind::gic_v3_its && !r.its) r.its = &o;
                else if (arm64::is_mmio_device(o.kind)) r.bus_devices.push_back(&o);
                else throw Error(fmt::format("arm-cca launcher: a second {}", op::to_string(o.kind)));
            },
            [&](const op::SetRegisters& o) {
                if (o.vcpu != 0) throw Error("arm-cca launcher: only vCPU 0 has an initial state");
                r.boot_registers = o.registers;
            },
            [&](const op::Finalize&) { finalized = true; },
        }, operation);
    }
    if (!created || !finalized || r.vcpus == 0 || r.memory.empty())
        throw Error("arm-cca launcher: the plan lacks create-vm, memory, vCPUs or finalize");
    if (!r.gic) throw Error("arm-cca launcher: the plan has no GICv3, which every realm needs for its timer");
    // Memory that is not realm RAM (QEMU's flash, holding -bios) is a device
    // of QEMU's this launcher does not provide: such a realm is predicted,
    // not launched.
    for (const auto& m : r.memory)
        if (!m.confidential)
            throw Error(fmt::format("arm-cca launcher: the plan's {} at [{:#x}, +{:#x}) is not realm RAM; realms whose "
                                    "firmware lives in QEMU's flash are predicted but not launched by libcvm",
                                    m.label, m.gpa, m.size));
    // KVM sets these from the vCPUs' PMU and SVE state; the launcher cannot
    // yet make them equal the planned values, so it refuses rather than
    // launch a realm whose RIM differs from the prediction.
    if (r.realm.params.flags & (RealmParams::kFlagPmu | RealmParams::kFlagSve))
        throw Error("arm-cca launcher: realms with a PMU or SVE are predicted but not launched by libcvm yet");
    return r;
}

bool abi_is_named(Abi abi, const std::string& wanted) {
    return wanted == abi_name(abi) || (abi == Abi::rme_v6 && wanted == "rme-v7");
}

Abi choose_abi(const KvmSystem& kvm, const std::string& wanted) {
    const Abi probe_order[] = {Abi::rmi_v14, Abi::rmi_v13, Abi::rmi_v12, Abi::rme_v6};
    for (Abi abi : probe_order) {
        if (wanted != "auto" && !abi_is_named(abi, wanted)) continue;
        if (kvm.check_extension(abi_capability(abi)) > 0) return abi;
        if (wanted != "auto")
            throw Error(fmt::format("this host's KVM does not offer the {} realm ABI (capability {})", wanted,
                                    abi_capability(abi)), 0, "kvm");
    }
    throw Error("this host cannot run Arm CCA realms: its KVM offers neither KVM_CAP_ARM_RME (host series v5-v7) "
                "nor KVM_CAP_ARM_RMI (v12-v14); realms need an RME-capable arm64 CPU, RMM firmware and a kernel "
                "with the CCA host patches. `cvm-launch measure` predicts the RIM without any of them", 0, "kvm");
}

void check_abi_fits_plan(Abi abi, const RealmConfig& realm) {
    const bool rme = abi == Abi::rme_v6;
    if (rme != (realm.rmm == RmmVersion::v1_0))
        throw Error(fmt::format("the host speaks {} ({}) but the plan was made for RMM {}", abi_name(abi),
                                rme ? "RMM 1.0" : "RMM 2.0", to_string(realm.rmm)));
    // Only the RME ABI has a CONFIG_REALM call. Every RMI series creates the
    // RD from a zeroed params page (realm_create_rd, v12 included: one
    // capability and two ioctls, none of which carries a hash or an RPV), so
    // the RMM sees hash_algo 0 = SHA-256 and a zero RPV.
    const bool fixed = !rme;
    bool rpv_zero = std::all_of(realm.rpv.begin(), realm.rpv.end(), [](std::uint8_t b) { return b == 0; });
    if (fixed && (realm.params.algorithm != HashAlgorithm::sha256 || !rpv_zero))
        throw Error(fmt::format("the host speaks {}, which has no way to choose the hash or the RPV (SHA-256 and a zero "
                                "RPV); the plan asks for {}{}",
                                abi_name(abi), to_string(realm.params.algorithm), rpv_zero ? "" : " and an RPV"));
}

void enable_cap(const Vm& vm, std::uint64_t command, void* arg, const char* name) {
    kvm_enable_cap cap{};
    cap.cap = uapi::rme::kCapArmRme;
    cap.args[0] = command;
    cap.args[1] = reinterpret_cast<std::uint64_t>(arg);
    vm.ioctl(KVM_ENABLE_CAP, &cap, name);
}

void set_one_reg(const Vcpu& vcpu, std::uint64_t id, std::uint64_t value, const char* name) {
    kvm_one_reg reg{};
    reg.id = id;
    reg.addr = reinterpret_cast<std::uint64_t>(&value);
    vcpu.ioctl(KVM_SET_ONE_REG, &reg, name);
}

class RealmLauncher {
public:
    RealmLauncher(const RealmRequest& request, const RunOptions& options, std::size_t page_size)
        : r_(request), options_(options), seam_(options.seam ? *options.seam : system_kvm_seam()),
          page_size_(page_size) {}

    RunResult run() {
        kvm_.emplace(seam_, options_.device);
        abi_ = choose_abi(*kvm_, r_.realm.abi);
        check_abi_fits_plan(abi_, r_.realm);
        check_ipa_size();
        for (const auto& load : r_.loads) populate_span(load);  // refuse before anything is created
        const unsigned long ipa = r_.realm.params.s2sz & uapi::kVmTypeIpaSizeMask;
        const unsigned long realm_type = abi_ == Abi::rmi_v14 ? uapi::rmi::kVmTypeRealmV14
                                         : abi_ == Abi::rme_v6 ? uapi::rme::kVmTypeRealm
                                                               : uapi::rmi::kVmTypeRealmV12;
        vm_.emplace(kvm_->create_vm(realm_type | ipa));
        add_private_memslots();
        create_vcpus();
        set_debug_registers();
        create_gic();
        if (abi_ == Abi::rme_v6) {
            configure_and_create_realm();
            for (const auto& m : r_.memory)
                if (m.confidential) init_ripas(m);
            for (const auto& load : r_.loads) populate_rme(load);
            set_boot_registers();
            for (const auto& vcpu : vcpus_) {
                int feature = static_cast<int>(uapi::rme::kVcpuFeatureRec);
                vcpu.ioctl(uapi::kKvmArmVcpuFinalize, &feature, "KVM_ARM_VCPU_FINALIZE(REC)");
            }
            enable_cap(*vm_, uapi::rme::kActivateRealm, nullptr, "KVM_CAP_ARM_RME ACTIVATE_REALM");
        } else {
            set_boot_registers();
            for (const auto& load : r_.loads) populate_rmi(load);
        }
        arm64::MmioDevices devices(r_.bus_devices, *vm_, options_.console_fd, "arm-cca launcher");
        MmioExitHandler handler(devices.bus());
        // A Linux realm changes RIPAS while it boots (swiotlb buffers made
        // shared); KVM reports each change as a memory-fault exit, which the
        // runner answers by converting the range through private_ and
        // re-entering (the kernel completes the RIPAS change on that entry:
        // kvm_complete_ripas_change in v6, kvm_rec_pre_enter from v8).
        VcpuRunner runner(vcpus_, handler, &*private_);
        return runner.run(options_);
    }

private:
    // KVM_CREATE_VM refuses an IPA width above what this host offers
    // (kvm_arm_setup_stage2: phys_shift > kvm_ipa_limit is -EINVAL); say so
    // with the numbers instead of naming only the refused call.
    void check_ipa_size() const {
        int limit = kvm_->check_extension(uapi::kCapArmVmIpaSize);
        const unsigned host = limit > 0 ? static_cast<unsigned>(limit) : uapi::kDefaultIpaBits;
        if (r_.realm.params.s2sz > host)
            throw Error(fmt::format("the plan gives the realm a {}-bit IPA space; this host's KVM offers at most {} bits "
                                    "(KVM_CAP_ARM_VM_IPA_SIZE); plan with ipa-bits={}", r_.realm.params.s2sz, host,
                                    host), 0, "kvm");
    }

    // Realm RAM is guest_memfd-backed on every ABI: the RME ABI's POPULATE
    // refuses any other slot with -EINVAL (populate_par_region:
    // kvm_slot_can_be_private, since "[PATCH v3 21/43] arm64: RME: Runtime
    // faulting of memory" <20240610134202.54893-22-steven.price@arm.com>; v6:
    // <20241212155610.76522-20-steven.price@arm.com>), and from v12
    // kvm_gmem_populate refuses it too. Confidential RAM is made private at
    // slot creation, as QEMU does for guest_memfd RAM: otherwise the first
    // guest access to unpopulated RAM is a memory-fault exit (v3-v7
    // private_memslot_fault: the attribute differs from the IPA half). The
    // shared mapping is what populate copies from.
    void add_private_memslots() {
        private_.emplace(*vm_, memory_);
        for (const auto& m : r_.memory) private_->add(m.gpa, m.size, m.confidential);
    }

    void create_vcpus() {
        uapi::kvm_vcpu_init preferred{};
        vm_->ioctl(uapi::kKvmArmPreferredTarget, &preferred, "KVM_ARM_PREFERRED_TARGET");
        for (unsigned id = 0; id < r_.vcpus; ++id) {
            vcpus_.push_back(vm_->create_vcpu(id));
            uapi::kvm_vcpu_init init{};
            init.target = preferred.target;
            init.features[0] = 1u << uapi::kVcpuFeaturePsci02;
            if (id != 0) init.features[0] |= 1u << uapi::kVcpuFeaturePowerOff;  // started by PSCI CPU_ON
            if (abi_ == Abi::rme_v6) init.features[0] |= 1u << uapi::rme::kVcpuFeatureRec;
            vcpus_.back().ioctl(uapi::kKvmArmVcpuInit, &init, "KVM_ARM_VCPU_INIT");
        }
    }

    // The realm's breakpoint and watchpoint counts are the VM's
    // ID_AA64DFR0_EL1.BRPs/WRPs (count - 1), which the VMM may lower and the
    // RD takes at creation (realm_create_rd reads them from the VM's DFR0).
    // Lowering BRPs must lower CTX_CMPs with it: the context-aware
    // breakpoints are a subset of the breakpoints, so CTX_CMPs <= BRPs, and
    // the CCA host series clamps it the same way on its own reset path
    // (kvm_realm_reset_id_aa64dfr0_el1: ctx_cmps = min(bps, ctx_cmps)). A
    // field of 0 (one breakpoint or watchpoint) is architecturally reserved:
    // every Armv8 PE has at least two of each.
    void set_debug_registers() {
        std::uint64_t dfr0 = 0;
        kvm_one_reg reg{};
        reg.id = uapi::kIdAa64Dfr0El1;
        reg.addr = reinterpret_cast<std::uint64_t>(&dfr0);
        vcpus_.front().ioctl(KVM_GET_ONE_REG, &reg, "KVM_GET_ONE_REG(ID_AA64DFR0_EL1)");
        auto field = [&](unsigned shift) { return static_cast<unsigned>((dfr0 >> shift) & 0xf); };
        const unsigned host_bps = field(uapi::kDfr0BrpsShift), host_wps = field(uapi::kDfr0WrpsShift);
        const unsigned host_ctx = field(uapi::kDfr0CtxCmpsShift);
        const auto& p = r_.realm.params;
        if (p.num_bps == 0 || p.num_wps == 0)
            throw Error(fmt::format("the plan gives the realm {} breakpoints and {} watchpoints; a realm needs at least "
                                    "2 of each (ID_AA64DFR0_EL1.BRPs/WRPs 0 is reserved)", p.num_bps + 1,
                                    p.num_wps + 1));
        if (p.num_bps > host_bps || p.num_wps > host_wps)
            throw Error(fmt::format("the plan gives the realm {} breakpoints and {} watchpoints; this host has {} "
                                    "and {}", p.num_bps + 1, p.num_wps + 1, host_bps + 1, host_wps + 1), 0, "kvm");
        const unsigned ctx = std::min(host_ctx, static_cast<unsigned>(p.num_bps));
        dfr0 &= ~((0xfull << uapi::kDfr0BrpsShift) | (0xfull << uapi::kDfr0WrpsShift) |
                  (0xfull << uapi::kDfr0CtxCmpsShift));
        dfr0 |= std::uint64_t{p.num_bps} << uapi::kDfr0BrpsShift | std::uint64_t{p.num_wps} << uapi::kDfr0WrpsShift |
                std::uint64_t{ctx} << uapi::kDfr0CtxCmpsShift;
        try {
            set_one_reg(vcpus_.front(), uapi::kIdAa64Dfr0El1, dfr0, "KVM_SET_ONE_REG(ID_AA64DFR0_EL1)");
        } catch (const Error& e) {
            // The series v7 kernel takes a lowered WRPs but refuses a lowered
            // BRPs (seen under emulated RME, docs/arm-cca.md): say which
            // option to change rather than leave a bare EINVAL.
            if (e.err() != EINVAL || p.num_bps == host_bps) throw;
            throw Error(fmt::format("this host's KVM refuses to give the realm {} breakpoints instead of the host's {} "
                                    "(ID_AA64DFR0_EL1.BRPs); predict and launch with --num-bps {}", p.num_bps + 1,
                                    host_bps + 1, host_bps + 1), e.err(), "kvm");
        }
    }

    // The GIC and ITS the plan's records place (the qemu layout's second,
    // high redistributor region beyond 123 vCPUs included), after the vCPUs.
    void create_gic() { vgic_.emplace(arm64::create_vgic(*vm_, *r_.gic, r_.its, r_.vcpus)); }

    void configure_and_create_realm() {
        uapi::rme::kvm_cap_arm_rme_config_item hash{};
        hash.cfg = uapi::rme::kCfgHashAlgo;
        hash.hash_algo = r_.realm.params.algorithm == HashAlgorithm::sha512 ? uapi::rme::kHashSha512
                                                                            : uapi::rme::kHashSha256;
        enable_cap(*vm_, uapi::rme::kConfigRealm, &hash, "KVM_CAP_ARM_RME CONFIG_REALM(hash)");
        uapi::rme::kvm_cap_arm_rme_config_item rpv{};
        rpv.cfg = uapi::rme::kCfgRpv;
        std::memcpy(rpv.rpv, r_.realm.rpv.data(), sizeof rpv.rpv);
        enable_cap(*vm_, uapi::rme::kConfigRealm, &rpv, "KVM_CAP_ARM_RME CONFIG_REALM(RPV)");
        enable_cap(*vm_, uapi::rme::kCreateRd, nullptr, "KVM_CAP_ARM_RME CREATE_RD");
    }

    void init_ripas(const op::AddMemory& m) {
        uapi::rme::kvm_cap_arm_rme_init_ipa_args args{};
        args.init_ipa_base = m.gpa;
        args.init_ipa_size = m.size;
        enable_cap(*vm_, uapi::rme::kInitIpaRealm, &args, "KVM_CAP_ARM_RME INIT_IPA_REALM");
    }

    // The span a load is populated over. Every ABI's populate takes host
    // pages (v6 kvm_populate_realm, v12-v14 kvm_arm_rmi_populate:
    // IS_ALIGNED(..., PAGE_SIZE), -EINVAL otherwise), while the RMM measures
    // each 4 KiB granule of it. On a host with larger pages the page span
    // would measure granules the plan does not, so such a load is refused
    // unless its granule span already is whole host pages.
    std::pair<std::uint64_t, std::uint64_t> populate_span(const op::LoadData& load) const {
        const std::uint64_t size = load.data.size();
        auto span = [&](std::uint64_t unit) {
            const std::uint64_t base = load.gpa / unit * unit;
            return std::pair{base, (load.gpa + size + unit - 1) / unit * unit - base};
        };
        const auto granules = span(kGranule);
        if (page_size_ != kGranule && span(page_size_) != granules)
            throw Error(fmt::format("{} at [{:#x}, +{:#x}) is not whole {} KiB host pages: this host populates realms "
                                    "in host pages, which would measure {:#x} bytes where the plan measures {:#x}; "
                                    "realms with this layout need a 4 KiB-page host kernel", load.label, load.gpa,
                                    size, page_size_ / 1024, span(page_size_).second, granules.second), 0, "kvm");
        return granules;
    }

    // Copies the region into the shared mapping; returns its populate span.
    std::pair<std::uint64_t, std::uint64_t> stage(const op::LoadData& load) {
        auto bytes = load.data.bytes();
        auto target = memory_.at(load.gpa, bytes.size());
        std::memcpy(target.data(), bytes.data(), bytes.size());
        const auto [base, size] = populate_span(load);
        memory_.at(base, size);  // the whole span must be RAM
        return {base, size};
    }

    void populate_rme(const op::LoadData& load) {
        auto [base, size] = stage(load);
        uapi::rme::kvm_cap_arm_rme_populate_realm_args args{};
        args.populate_ipa_base = base;
        args.populate_ipa_size = size;
        args.flags = load.measured ? uapi::rme::kPopulateFlagsMeasure : 0;
        enable_cap(*vm_, uapi::rme::kPopulateRealm, &args, "KVM_CAP_ARM_RME POPULATE_REALM");
    }

    // KVM_ARM_RMI_POPULATE may stop early: v12 returns the bytes done, v13
    // and v14 advance base/size/source_uaddr in place. Call again until the
    // whole region is in; a call that makes no progress is an error. A v12
    // call asks for at most kMaxV12PopulateBytes, so the count it returns
    // fits the int ioctl(2) returns.
    void populate_rmi(const op::LoadData& load) {
        auto [base, size] = stage(load);
        uapi::rmi::kvm_arm_rmi_populate args{};
        args.base = base;
        args.size = size;
        args.source_uaddr = reinterpret_cast<std::uint64_t>(memory_.at(base, size).data());
        args.flags = load.measured ? uapi::rmi::kPopulateFlagsMeasure : 0;
        while (args.size != 0) {
            const std::uint64_t before = args.size;
            if (abi_ == Abi::rmi_v12) {
                uapi::rmi::kvm_arm_rmi_populate call = args;
                call.size = std::min(args.size, uapi::rmi::kMaxV12PopulateBytes);
                int done = vm_->ioctl(uapi::rmi::kPopulateV12, &call, "KVM_ARM_RMI_POPULATE");
                if (done <= 0 || static_cast<std::uint64_t>(done) > call.size ||
                    static_cast<std::uint64_t>(done) % page_size_)
                    throw Error(fmt::format("KVM_ARM_RMI_POPULATE of {} at {:#x} returned {}", load.label, args.base,
                                            done), 0, "kvm");
                args.base += static_cast<std::uint64_t>(done);
                args.size -= static_cast<std::uint64_t>(done);
                args.source_uaddr += static_cast<std::uint64_t>(done);
            } else {
                vm_->ioctl(uapi::rmi::kPopulateV13, &args, "KVM_ARM_RMI_POPULATE");
                if (args.size >= before)
                    throw Error(fmt::format("KVM_ARM_RMI_POPULATE of {} made no progress at {:#x}", load.label,
                                            args.base), 0, "kvm");
            }
        }
    }

    void set_boot_registers() {
        for (const auto& reg : r_.boot_registers) {
            std::uint64_t id = 0;
            if (reg.name == "pc") id = uapi::kCoreRegPc;
            else if (reg.name.size() == 2 && reg.name[0] == 'x' && reg.name[1] >= '0' && reg.name[1] <= '7')
                id = uapi::core_reg_x(static_cast<unsigned>(reg.name[1] - '0'));
            else throw Error(fmt::format("arm-cca launcher: unknown boot register '{}'", reg.name));
            set_one_reg(vcpus_.front(), id, reg.value, "KVM_SET_ONE_REG(boot register)");
        }
    }

    const RealmRequest& r_;
    const RunOptions& options_;
    KvmSeam& seam_;
    const std::size_t page_size_;
    Abi abi_ = Abi::rme_v6;
    // Teardown runs bottom-up: vCPUs and the GIC, then the guest_memfd
    // slots, the VM, /dev/kvm, and the shared guest memory last.
    GuestMemory memory_;
    std::optional<KvmSystem> kvm_;
    std::optional<Vm> vm_;
    std::optional<PrivateMemory> private_;
    std::optional<arm64::Vgic> vgic_;
    std::vector<Vcpu> vcpus_;
};

} // namespace

RunResult launch_realm(const LaunchPlan& plan, const RunOptions& options) {
    return launch_realm(plan, options, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
}

RunResult launch_realm(const LaunchPlan& plan, const RunOptions& options, std::size_t host_page_size) {
    RealmRequest request = gather(plan);
    RealmLauncher launcher(request, options, host_page_size);
    return launcher.run();
}

} // namespace cvm::cca
