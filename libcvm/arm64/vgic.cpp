#include "libcvm/arm64/vgic.hpp"

#include <linux/kvm.h>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::arm64 {
namespace {

// arch/arm64/include/uapi/asm/kvm.h and include/uapi/linux/kvm.h.
constexpr std::uint32_t kDevTypeVgicV3 = 7;   // KVM_DEV_TYPE_ARM_VGIC_V3
constexpr std::uint32_t kDevTypeVgicIts = 8;  // KVM_DEV_TYPE_ARM_VGIC_ITS
constexpr std::uint32_t kGroupAddr = 0;       // KVM_DEV_ARM_VGIC_GRP_ADDR
constexpr std::uint32_t kGroupCtrl = 4;       // KVM_DEV_ARM_VGIC_GRP_CTRL
constexpr std::uint64_t kAddrDist = 2;        // KVM_VGIC_V3_ADDR_TYPE_DIST
constexpr std::uint64_t kAddrRedist = 3;      // KVM_VGIC_V3_ADDR_TYPE_REDIST
constexpr std::uint64_t kAddrIts = 4;         // KVM_VGIC_ITS_ADDR_TYPE
constexpr std::uint64_t kAddrRedistRegion = 5;  // KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION
constexpr std::uint64_t kCtrlInit = 0;        // KVM_DEV_ARM_VGIC_CTRL_INIT
constexpr std::uint64_t kAlign = 0x10000;     // every base is 64 KiB aligned
static_assert(KVM_DEV_TYPE_ARM_VGIC_V3 == kDevTypeVgicV3 && KVM_DEV_TYPE_ARM_VGIC_ITS == kDevTypeVgicIts);

KvmFd create_device(const Vm& vm, std::uint32_t type, const char* name) {
    kvm_create_device create{};
    create.type = type;
    vm.ioctl(KVM_CREATE_DEVICE, &create, fmt::format("KVM_CREATE_DEVICE({})", name));
    return KvmFd(vm.seam(), UniqueFd(static_cast<int>(create.fd)));
}

void set_attr(const KvmFd& device, std::uint32_t group, std::uint64_t attr, std::uint64_t* value,
              const std::string& name) {
    kvm_device_attr a{};
    a.group = group;
    a.attr = attr;
    a.addr = reinterpret_cast<std::uint64_t>(value);
    device.ioctl(KVM_SET_DEVICE_ATTR, &a, fmt::format("KVM_SET_DEVICE_ATTR({})", name));
}

void check_aligned(const op::DeviceRegion& region, const char* what) {
    if (region.space != op::AddressSpace::mmio || region.base % kAlign || region.size == 0)
        throw Error(fmt::format("the plan's {} at {:#x}+{:#x} is not a 64 KiB-aligned MMIO range", what, region.base,
                                region.size));
}

} // namespace

Vgic create_vgic(const Vm& vm, const op::AddDevice& gic, const op::AddDevice* its, unsigned vcpus) {
    if (gic.kind != DeviceKind::gic_v3 || gic.regions.size() < 2)
        throw Error("the plan's GICv3 needs a distributor and at least one redistributor region");
    for (const auto& region : gic.regions) check_aligned(region, "GICv3 region");
    // How many redistributors each region holds: all it can, the last the rest.
    std::vector<std::uint64_t> counts;
    std::uint64_t left = vcpus;
    for (std::size_t i = 1; i < gic.regions.size(); ++i) {
        const std::uint64_t fits = gic.regions[i].size / kRedistributorSize;
        const std::uint64_t count = i + 1 == gic.regions.size() ? left : std::min(fits, left);
        if (count == 0 || count > fits)
            throw Error(fmt::format("the plan's GICv3 redistributor region {} ({:#x} bytes) cannot hold {} of the {} "
                                    "vCPUs' redistributors", i - 1, gic.regions[i].size, count, vcpus));
        counts.push_back(count);
        left -= count;
    }

    Vgic vgic{create_device(vm, kDevTypeVgicV3, "vGICv3"), std::nullopt};
    std::uint64_t dist = gic.regions[0].base;
    set_attr(vgic.gic, kGroupAddr, kAddrDist, &dist, "GICv3 distributor");
    if (counts.size() == 1) {
        std::uint64_t redist = gic.regions[1].base;
        set_attr(vgic.gic, kGroupAddr, kAddrRedist, &redist, "GICv3 redistributors");
    } else {
        // bits 63-52 count, 51-16 base, 15-12 flags (0), 11-0 index.
        for (std::size_t i = 0; i < counts.size(); ++i) {
            std::uint64_t value = counts[i] << 52 | gic.regions[i + 1].base | i;
            set_attr(vgic.gic, kGroupAddr, kAddrRedistRegion, &value, fmt::format("GICv3 redistributor region {}", i));
        }
    }
    if (its) {
        if (its->kind != DeviceKind::gic_v3_its || its->regions.size() != 1)
            throw Error("the plan's ITS needs one register frame");
        check_aligned(its->regions[0], "ITS");
        vgic.its.emplace(create_device(vm, kDevTypeVgicIts, "ITS"));
        std::uint64_t base = its->regions[0].base;
        set_attr(*vgic.its, kGroupAddr, kAddrIts, &base, "ITS address");
    }
    set_attr(vgic.gic, kGroupCtrl, kCtrlInit, nullptr, "GICv3 init");
    if (vgic.its) set_attr(*vgic.its, kGroupCtrl, kCtrlInit, nullptr, "ITS init");
    return vgic;
}

} // namespace cvm::arm64
