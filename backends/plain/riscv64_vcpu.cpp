#include "backends/plain/riscv64_vcpu.hpp"

#include <cerrno>
#include <cstddef>
#include <linux/kvm.h>
#include <string_view>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/riscv64/host_values.hpp"

namespace cvm::riscv64 {
namespace {

constexpr std::uint64_t reg_id(std::uint64_t type, std::uint64_t index) {
    return KVM_REG_RISCV | KVM_REG_SIZE_U64 | type | index;
}
constexpr std::uint64_t core_reg(std::size_t offset_in_regs) {
    return reg_id(KVM_REG_RISCV_CORE, offset_in_regs / sizeof(unsigned long));
}
constexpr std::uint64_t kRegPc = core_reg(offsetof(kvm_riscv_core, regs.pc));
constexpr std::uint64_t kRegA0 = core_reg(offsetof(kvm_riscv_core, regs.a0));
constexpr std::uint64_t kRegIsa = reg_id(KVM_REG_RISCV_CONFIG, KVM_REG_RISCV_CONFIG_REG(isa));
constexpr std::uint64_t kRegTimebase = reg_id(KVM_REG_RISCV_TIMER, KVM_REG_RISCV_TIMER_REG(frequency));
// The values KVM's documentation gives (Documentation/virt/kvm/api.rst,
// KVM_SET_ONE_REG, RISC-V registers): a typo in a header cannot move them.
static_assert(kRegPc == 0x8030000002000000ull && kRegA0 == 0x803000000200000aull);
static_assert(kRegIsa == 0x8030000001000000ull && kRegTimebase == 0x8030000004000000ull);
// KVM_REG_RISCV_SBI_EXT (type 8), KVM_REG_RISCV_SBI_SINGLE, KVM_RISCV_SBI_EXT_DBCN
// (9): Linux 6.8's UAPI, newer than Debian 12's riscv64 headers.
constexpr std::uint64_t kRegSbiExtDbcn = reg_id(0x08ull << KVM_REG_RISCV_TYPE_SHIFT, 9);
static_assert(kRegSbiExtDbcn == 0x8030000008000009ull);

std::uint64_t get_one_reg(const Vcpu& vcpu, std::uint64_t id, std::string_view name) {
    std::uint64_t value = 0;
    kvm_one_reg reg{id, reinterpret_cast<std::uint64_t>(&value)};
    vcpu.ioctl(KVM_GET_ONE_REG, &reg, fmt::format("KVM_GET_ONE_REG({})", name));
    return value;
}

// The multi-letter extensions the plain machine may declare, as KVM numbers
// them (enum KVM_RISCV_ISA_EXT_ID).
std::uint64_t isa_ext_id(std::string_view name) {
    if (name == "svpbmt") return KVM_RISCV_ISA_EXT_SVPBMT;
    if (name == "sstc") return KVM_RISCV_ISA_EXT_SSTC;
    if (name == "svinval") return KVM_RISCV_ISA_EXT_SVINVAL;
    if (name == "zihintpause") return KVM_RISCV_ISA_EXT_ZIHINTPAUSE;
    throw Error(fmt::format("the plain riscv64 launcher cannot check extension '{}' on this host", name), 0,
                "option isa");
}

} // namespace

void check_host_values(const Vcpu& vcpu, const std::string& isa_text, std::uint64_t timebase_frequency) {
    const Isa isa = parse_isa(isa_text);
    const std::uint64_t letters = get_one_reg(vcpu, kRegIsa, "config isa");
    for (char letter : isa.letters)
        if (!(letters & (1ull << (letter - 'a'))))
            throw Error(fmt::format("the plan's isa '{}' declares '{}', which this host's KVM does not give a vCPU "
                                    "(its config isa register is {:#x}); plan with a smaller isa option",
                                    isa_text, letter, letters), 0, "option isa");
    for (const auto& name : isa.extensions) {
        // KVM answers ENOENT for an extension the host itself lacks
        // (kvm_riscv_vcpu_isa_check_host), 0 for one it disabled.
        std::uint64_t enabled = 0;
        kvm_one_reg reg{reg_id(KVM_REG_RISCV_ISA_EXT, isa_ext_id(name)), reinterpret_cast<std::uint64_t>(&enabled)};
        const int rc = vcpu.seam().ioctl(vcpu.fd(), KVM_GET_ONE_REG, &reg);
        if (rc == -ENOENT)
            throw Error(fmt::format("the plan's isa '{}' declares _{}, which this host does not have (KVM_GET_ONE_REG "
                                    "of isa-ext {}: ENOENT); plan without it", isa_text, name, name),
                        0, "option isa");
        if (rc < 0) throw Error(fmt::format("KVM_GET_ONE_REG(isa-ext {}) failed", name), -rc, "kvm");
        if (enabled == 0)
            throw Error(fmt::format("the plan's isa '{}' declares _{}, which this host's KVM does not give a vCPU; "
                                    "plan without it", isa_text, name), 0, "option isa");
    }
    const std::uint64_t host_timebase = get_one_reg(vcpu, kRegTimebase, "timer frequency");
    if (host_timebase != timebase_frequency)
        throw Error(fmt::format("the plan's DTB says the timebase runs at {} Hz; this host's runs at {} Hz: plan "
                                "with timebase-frequency={}", timebase_frequency, host_timebase, host_timebase),
                    0, "option timebase-frequency");
}

bool enable_sbi_debug_console(const Vcpu& vcpu) {
    std::uint64_t on = 1;
    kvm_one_reg reg{kRegSbiExtDbcn, reinterpret_cast<std::uint64_t>(&on)};
    const int rc = vcpu.seam().ioctl(vcpu.fd(), KVM_SET_ONE_REG, &reg);
    if (rc == -ENOENT) return false;
    if (rc < 0) throw Error(fmt::format("KVM_SET_ONE_REG(sbi-ext dbcn) of vCPU {} failed", vcpu.id()), -rc, "kvm");
    return true;
}

void apply_registers(const Vcpu& vcpu, const op::SetRegisters& state) {
    for (const auto& r : state.registers) {
        const std::string& n = r.name;
        std::uint64_t id = 0;
        if (n == "pc") id = kRegPc;
        else if (n.size() == 2 && n[0] == 'a' && n[1] >= '0' && n[1] <= '7') id = kRegA0 + static_cast<unsigned>(n[1] - '0');
        else throw Error(fmt::format("the plain riscv64 launcher cannot set register '{}' (only pc, a0-a7)", n));
        std::uint64_t value = r.value;
        kvm_one_reg reg{id, reinterpret_cast<std::uint64_t>(&value)};
        vcpu.ioctl(KVM_SET_ONE_REG, &reg, fmt::format("KVM_SET_ONE_REG({})", n));
    }
}

} // namespace cvm::riscv64
