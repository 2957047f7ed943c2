#include "backends/plain/arm64_vcpu.hpp"

#include <cstddef>
#include <linux/kvm.h>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::arm64 {
namespace {

// Without KVM_CAP_ARM_VM_IPA_SIZE, KVM gives every VM a 40-bit IPA space.
constexpr unsigned kDefaultIpaBits = 40;

constexpr std::uint64_t core_reg(std::size_t offset_in_kvm_regs) {
    return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset_in_kvm_regs / sizeof(std::uint32_t));
}
constexpr std::uint64_t kRegX0 = core_reg(offsetof(kvm_regs, regs.regs[0]));
constexpr std::uint64_t kRegSp = core_reg(offsetof(kvm_regs, regs.sp));
constexpr std::uint64_t kRegPc = core_reg(offsetof(kvm_regs, regs.pc));
constexpr std::uint64_t kRegPstate = core_reg(offsetof(kvm_regs, regs.pstate));
static_assert(kRegPc == 0x6030000000100040ull && kRegPstate == 0x6030000000100042ull);

void set_one_reg(const Vcpu& vcpu, std::uint64_t id, std::uint64_t value, const std::string& name) {
    kvm_one_reg reg{};
    reg.id = id;
    reg.addr = reinterpret_cast<std::uint64_t>(&value);
    vcpu.ioctl(KVM_SET_ONE_REG, &reg, fmt::format("KVM_SET_ONE_REG({})", name));
}

} // namespace

unsigned long vm_type_for_ipa(const KvmSystem& kvm, unsigned ipa_bits) {
    const int limit = kvm.check_extension(KVM_CAP_ARM_VM_IPA_SIZE);
    if (limit <= 0) {
        if (ipa_bits > kDefaultIpaBits)
            throw Error(fmt::format("the guest needs {} IPA bits; this KVM has no KVM_CAP_ARM_VM_IPA_SIZE and gives "
                                    "{}", ipa_bits, kDefaultIpaBits), 0, "kvm");
        return 0;
    }
    if (ipa_bits > static_cast<unsigned>(limit))
        throw Error(fmt::format("the guest needs {} IPA bits; this host's KVM allows at most {}", ipa_bits, limit), 0,
                    "kvm");
    return KVM_VM_TYPE_ARM_IPA_SIZE(ipa_bits);
}

std::vector<Vcpu> create_vcpus(const Vm& vm, unsigned count) {
    kvm_vcpu_init preferred{};
    vm.ioctl(KVM_ARM_PREFERRED_TARGET, &preferred, "KVM_ARM_PREFERRED_TARGET");
    std::vector<Vcpu> vcpus;
    for (unsigned id = 0; id < count; ++id) {
        vcpus.push_back(vm.create_vcpu(id));
        kvm_vcpu_init init{};
        init.target = preferred.target;
        init.features[0] = 1u << KVM_ARM_VCPU_PSCI_0_2;
        if (id != 0) init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
        vcpus.back().ioctl(KVM_ARM_VCPU_INIT, &init, fmt::format("KVM_ARM_VCPU_INIT {}", id));
    }
    return vcpus;
}

void apply_registers(const Vcpu& vcpu, const op::SetRegisters& state) {
    for (const auto& r : state.registers) {
        const std::string& n = r.name;
        std::uint64_t id = 0;
        if (n == "pc") id = kRegPc;
        else if (n == "sp") id = kRegSp;
        else if (n == "pstate") id = kRegPstate;
        else if (n.size() >= 2 && n.size() <= 3 && n[0] == 'x' && n.find_first_not_of("0123456789", 1) == n.npos &&
                 std::stoul(n.substr(1)) <= 30)
            id = kRegX0 + 2 * std::stoul(n.substr(1));  // X registers are 8 bytes, 2 ids apart
        else throw Error(fmt::format("unknown arm64 register '{}' in the plan", n));
        set_one_reg(vcpu, id, r.value, n);
    }
}

} // namespace cvm::arm64
