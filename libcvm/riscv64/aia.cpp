#include "libcvm/riscv64/aia.hpp"

#include <linux/kvm.h>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/riscv64/machine.hpp"

namespace cvm::riscv64 {
namespace {

constexpr std::uint32_t kDevTypeRiscvAia = 11;  // KVM_DEV_TYPE_RISCV_AIA (after ARM_PV_TIME, 10)
constexpr std::uint32_t kGroupConfig = 0;       // KVM_DEV_RISCV_AIA_GRP_CONFIG
constexpr std::uint64_t kConfigMode = 0;        //   KVM_DEV_RISCV_AIA_CONFIG_MODE
constexpr std::uint64_t kConfigIds = 1;         //   KVM_DEV_RISCV_AIA_CONFIG_IDS
constexpr std::uint64_t kConfigHartBits = 5;    //   KVM_DEV_RISCV_AIA_CONFIG_HART_BITS
constexpr std::uint32_t kGroupAddr = 1;         // KVM_DEV_RISCV_AIA_GRP_ADDR
constexpr std::uint64_t kAddrImsicFirst = 1;    //   KVM_DEV_RISCV_AIA_ADDR_IMSIC(vcpu) = 1 + vcpu
constexpr std::uint32_t kGroupCtrl = 2;         // KVM_DEV_RISCV_AIA_GRP_CTRL
constexpr std::uint64_t kCtrlInit = 0;          //   KVM_DEV_RISCV_AIA_CTRL_INIT

void device_attr(const KvmFd& device, unsigned long request, std::uint32_t group, std::uint64_t attr, void* value,
                 const std::string& name) {
    kvm_device_attr a{};
    a.group = group;
    a.attr = attr;
    a.addr = reinterpret_cast<std::uint64_t>(value);
    device.ioctl(request, &a, name);
}

unsigned fls(unsigned long v) { return v ? 64u - static_cast<unsigned>(__builtin_clzl(v)) : 0u; }

} // namespace

KvmFd create_aia_imsic(const Vm& vm, const op::AddDevice& imsic, unsigned vcpus,
                       std::optional<std::uint32_t> num_ids) {
    if (imsic.kind != DeviceKind::riscv_imsic || imsic.regions.size() != 1 ||
        imsic.regions[0].size != std::uint64_t{vcpus} * kImsicPerHart || imsic.regions[0].base % kImsicPerHart)
        throw Error(fmt::format("the plan's IMSIC record needs one 4 KiB-aligned window of one 4 KiB file for each "
                                "of the {} harts", vcpus));
    kvm_create_device create{};
    create.type = kDevTypeRiscvAia;
    vm.ioctl(KVM_CREATE_DEVICE, &create, "KVM_CREATE_DEVICE(RISC-V AIA)");
    KvmFd aia(vm.seam(), UniqueFd(static_cast<int>(create.fd)));

    std::uint32_t mode = 0, ids = 0;
    device_attr(aia, KVM_GET_DEVICE_ATTR, kGroupConfig, kConfigMode, &mode, "KVM_GET_DEVICE_ATTR(AIA mode)");
    device_attr(aia, KVM_GET_DEVICE_ATTR, kGroupConfig, kConfigIds, &ids, "KVM_GET_DEVICE_ATTR(AIA ids)");
    if (num_ids && ids != *num_ids)
        throw Error(fmt::format("the plan's DTB declares riscv,num-ids {}; this host's AIA has {}: plan with "
                                "imsic-num-ids={}", *num_ids, ids, ids), 0, "option imsic-num-ids");
    std::uint32_t hart_bits = fls(vcpus);
    device_attr(aia, KVM_SET_DEVICE_ATTR, kGroupConfig, kConfigHartBits, &hart_bits,
                "KVM_SET_DEVICE_ATTR(AIA hart bits)");
    for (unsigned hart = 0; hart < vcpus; ++hart) {
        std::uint64_t address = imsic.regions[0].base + std::uint64_t{hart} * kImsicPerHart;
        device_attr(aia, KVM_SET_DEVICE_ATTR, kGroupAddr, kAddrImsicFirst + hart, &address,
                    fmt::format("KVM_SET_DEVICE_ATTR(IMSIC of hart {})", hart));
    }
    device_attr(aia, KVM_SET_DEVICE_ATTR, kGroupCtrl, kCtrlInit, nullptr, "KVM_SET_DEVICE_ATTR(AIA init)");
    return aia;
}

} // namespace cvm::riscv64
