#include "rme_kernel_model.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

namespace cvmtest::cca {
namespace {

// Request numbers as the series and Linux 6.8 define them (not taken from
// the launcher's header, so a wrong number there fails here).
constexpr unsigned long kSetUserMemoryRegion = 0x4020ae46;
constexpr unsigned long kSetUserMemoryRegion2 = 0x40a0ae49;
constexpr unsigned long kCreateGuestMemfd = 0xc040aed4;
constexpr unsigned long kSetMemoryAttributes = 0x4020aed2;
constexpr unsigned long kEnableCap = 0x4068aea3;
constexpr unsigned long kPreferredTarget = 0x8020aeaf;
constexpr unsigned long kVcpuInit = 0x4020aeae;
constexpr unsigned long kVcpuFinalize = 0x4004aec2;
constexpr unsigned long kGetOneReg = 0x4010aeab;
constexpr unsigned long kSetOneReg = 0x4010aeac;
constexpr unsigned long kCreateDevice = 0xc00caee0;
constexpr unsigned long kSetDeviceAttr = 0x4018aee1;
constexpr unsigned long kRmiPopulateV12 = 0x4020aed7;  // _IOW: returns the bytes done
constexpr unsigned long kRmiPopulateV13 = 0xc020aed7;  // _IOWR: advances the struct

constexpr std::uint64_t kRegDfr0 = 0x603000000013c028ull;
constexpr std::uint64_t kRegPc = 0x6030000000100040ull;
constexpr std::uint64_t kRegX0 = 0x6030000000100000ull;
constexpr std::uint32_t kTargetGenericV8 = 5;
constexpr std::uint64_t kGranule = 4096;
constexpr std::uint64_t kAttrPrivate = 1ull << 3;
constexpr std::uint32_t kMemGuestMemfd = 1u << 2;
constexpr std::uint32_t kExitMemoryFault = 39;

// arm64 VCPU_INIT features: POWER_OFF 0, PSCI_0_2 2; REC 8 exists in the RME
// ABI only (v6 include/uapi KVM_ARM_VCPU_REC), the RMI series dropped it.
constexpr std::uint32_t kFeatPowerOff = 1u << 0, kFeatPsci02 = 1u << 2, kFeatRec = 1u << 8;

unsigned field(std::uint64_t v, unsigned shift) { return static_cast<unsigned>((v >> shift) & 0xf); }

} // namespace

const char* host_name(Host host) {
    switch (host) {
    case Host::rme_v6: return "rme-v6";
    case Host::rme_v7: return "rme-v7";
    case Host::rmi_v12: return "rmi-v12";
    case Host::rmi_v13: return "rmi-v13";
    case Host::rmi_v14: return "rmi-v14";
    }
    return "?";
}

RmeKernelModel::RmeKernelModel(Host host) : host_(host), vm_dfr0_(host_dfr0) {}

RmeKernelModel::Observed RmeKernelModel::seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
}

// vgic_v3_set_attr -> vgic_set_common_attr / vgic_v3_set_redist_base
// (arch/arm64/kvm/vgic/vgic-kvm-device.c, vgic-mmio-v3.c):
//   ADDR DIST (2): a 64 KiB-aligned base, once (-EEXIST);
//   ADDR REDIST (3): the legacy single region, its size implied by the vCPU
//     count; not after a REDIST_REGION (-EINVAL: no mixing), once (-EEXIST);
//   ADDR REDIST_REGION (5): count in bits 63-52 (0: -EINVAL), flags in 15-12
//     (non-zero: -EINVAL), index in 11-0, which must follow the last
//     region's (-EINVAL), after no legacy region (-EINVAL);
//   CTRL INIT (4/0): vgic_init needs the vCPUs; the bases are checked when
//     the GIC is first used (vgic_v3_map_resources / vgic_v3_check_base):
//     here at init, every vCPU must have a redistributor (-ENXIO).
int RmeKernelModel::gic_attr(const kvm_device_attr& a) {
    if (a.group == 0 && (a.attr == 2 || a.attr == 3 || a.attr == 5)) {
        std::uint64_t value = 0;
        std::memcpy(&value, reinterpret_cast<const void*>(a.addr), 8);
        if (a.attr == 2) {
            if (value % 0x10000) return refuse("vGIC distributor address", EINVAL);
            if (seen_.gic_dist != ~0ull) return refuse("vGIC distributor address", EEXIST);
            seen_.gic_dist = value;
            return 0;
        }
        auto& regions = seen_.redist_regions;
        if (a.attr == 3) {
            if (value % 0x10000) return refuse("vGIC redistributor address", EINVAL);
            if (!regions.empty())
                return refuse("vGIC redistributor address", regions.back().second ? EINVAL : EEXIST);
            regions.emplace_back(value, 0);
            return 0;
        }
        const std::uint64_t count = value >> 52, flags = (value >> 12) & 0xf, index = value & 0xfff;
        const std::uint64_t base = value & 0x000fffffffff0000ull;
        if (count == 0 || flags != 0) return refuse("vGIC redistributor region", EINVAL);
        if (!regions.empty() && regions.back().second == 0) return refuse("vGIC redistributor region", EINVAL);
        if (index != regions.size()) return refuse("vGIC redistributor region index", EINVAL);
        regions.emplace_back(base, count);
        return 0;
    }
    if (a.group == 4 && a.attr == 0) {
        if (seen_.gic_dist == ~0ull || seen_.redist_regions.empty() || vcpus_.empty()) return refuse("vGIC init", ENXIO);
        std::uint64_t room = 0;
        for (const auto& [base, count] : seen_.redist_regions) room += count ? count : vcpus_.size();
        if (room < vcpus_.size()) return refuse("vGIC init (vCPUs without a redistributor)", ENXIO);
        gic_ready_ = true;
        return 0;
    }
    return refuse("vGIC attribute", ENXIO);
}

// vgic_its_set_attr (arch/arm64/kvm/vgic/vgic-its.c): ADDR (0) of type
// KVM_VGIC_ITS_ADDR_TYPE (4) only (-ENODEV), 64 KiB aligned
// (vgic_check_iorange: -EINVAL), once (-EEXIST); CTRL INIT (4/0) does
// nothing and succeeds.
int RmeKernelModel::its_attr(const kvm_device_attr& a) {
    if (a.group == 0) {
        if (a.attr != 4) return refuse("ITS address type", ENODEV);
        std::uint64_t base = 0;
        std::memcpy(&base, reinterpret_cast<const void*>(a.addr), 8);
        if (base % 0x10000) return refuse("ITS address", EINVAL);
        if (seen_.its_base) return refuse("ITS address", EEXIST);
        seen_.its_base = base;
        return 0;
    }
    if (a.group == 4 && a.attr == 0) {
        seen_.its_initialized = true;
        return 0;
    }
    return refuse("ITS attribute", ENXIO);
}

int RmeKernelModel::refuse(const char* call, int err) {
    seen_.refused.push_back(fmt::format("{}: {}", call, std::strerror(err)));
    return -err;
}

int RmeKernelModel::open(const char* path, int flags) {
    int fd = fake_.open(path, flags);
    std::lock_guard lock(mutex_);
    if (fd >= 0) system_fds_.insert(fd);
    return fd;
}

int RmeKernelModel::mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) {
    return fake_.mmap(out, length, prot, flags, fd, offset);
}

// kvm_vm_ioctl_check_extension_generic / kvm_arch_vm_ioctl_check_extension:
// an unknown capability is 0. The private-memory capabilities answer per VM
// (arm64's kvm_arch_has_private_mem is true for realms only).
int RmeKernelModel::check_extension(bool on_vm, unsigned long cap) const {
    const bool realm = on_vm && seen_.realm_vm;
    switch (cap) {
    case 300: return rme() ? 1 : 0;  // KVM_CAP_ARM_RME (v5-v7)
    case 247: return host_ == Host::rmi_v12 ? 1 : 0;
    case 248: return host_ == Host::rmi_v13 ? 1 : 0;
    case 249: return host_ == Host::rmi_v14 ? 1 : 0;
    case 165: return static_cast<int>(ipa_limit);  // KVM_CAP_ARM_VM_IPA_SIZE
    case 231: return has_guest_memfd ? 1 : 0;      // KVM_CAP_USER_MEMORY2
    case 234: return has_guest_memfd && (!on_vm || realm) ? 1 : 0;  // KVM_CAP_GUEST_MEMFD
    case 233: return realm ? static_cast<int>(kAttrPrivate) : 0;    // KVM_CAP_MEMORY_ATTRIBUTES
    default: return 0;
    }
}

// kvm_arm_init_vm -> kvm_init_stage2_mmu / kvm_arm_setup_stage2: bits 7:0
// are the IPA size (0: 40), anything above the limit or below 32 is -EINVAL;
// the realm type bit is 1 << 8 (RME v6/v7, RMI v12/v13) or 1 << 30 (RMI v14).
int RmeKernelModel::create_vm(unsigned long type) {
    const unsigned long realm_bit = host_ == Host::rmi_v14 ? 1ul << 30 : 1ul << 8;
    if (type & ~(realm_bit | 0xfful)) return refuse("KVM_CREATE_VM(type)", EINVAL);
    unsigned ipa = static_cast<unsigned>(type & 0xff);
    if (ipa == 0) ipa = 40;
    if (ipa > ipa_limit || ipa < 32) return refuse("KVM_CREATE_VM(IPA size)", EINVAL);
    if (vm_fd_ >= 0) return refuse("KVM_CREATE_VM(second VM)", EBUSY);
    int fd = fake_.ioctl(*system_fds_.begin(), KVM_CREATE_VM, reinterpret_cast<void*>(0ul));
    if (fd < 0) return fd;
    vm_fd_ = fd;
    seen_.vms++;
    seen_.realm_vm = (type & realm_bit) != 0;
    seen_.ipa_bits = ipa;
    return fd;
}

int RmeKernelModel::ioctl(int fd, unsigned long request, void* arg) {
    std::unique_lock lock(mutex_);
    const auto value = reinterpret_cast<unsigned long>(arg);
    if (system_fds_.count(fd)) {
        if (request == KVM_GET_API_VERSION || request == KVM_GET_VCPU_MMAP_SIZE) {
            lock.unlock();
            return fake_.ioctl(fd, request, arg);
        }
        if (request == KVM_CHECK_EXTENSION) return check_extension(false, value);
        if (request == KVM_CREATE_VM) return create_vm(value);
        return refuse("system ioctl", ENOTTY);
    }
    if (fd == vm_fd_) return vm_ioctl(request, arg);
    if (auto it = vcpus_.find(fd); it != vcpus_.end()) {
        if (request == KVM_RUN) {
            VcpuState& vcpu = it->second;
            lock.unlock();
            return run(vcpu, fd);
        }
        return vcpu_ioctl(it->second, fd, request, arg);
    }
    if (fd == gic_fd_ && request == kSetDeviceAttr) return gic_attr(*static_cast<const kvm_device_attr*>(arg));
    if (fd == its_fd_ && request == kSetDeviceAttr) return its_attr(*static_cast<const kvm_device_attr*>(arg));
    return refuse("ioctl on an unknown fd", ENOTTY);
}

int RmeKernelModel::vm_ioctl(unsigned long request, void* arg) {
    switch (request) {
    case KVM_CHECK_EXTENSION: return check_extension(true, reinterpret_cast<unsigned long>(arg));
    case KVM_CREATE_VCPU: {
        // kvm_vm_ioctl_create_vcpu; a realm whose RECs exist takes no more
        // vCPUs (RMI: RECs are made at activation, RME: per vCPU finalize).
        if (seen_.state == RealmState::active) return refuse("KVM_CREATE_VCPU", EBUSY);
        int fd = fake_.ioctl(vm_fd_, request, arg);
        if (fd >= 0) vcpus_[fd].id = static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(arg));
        return fd;
    }
    case kPreferredTarget: {
        auto* init = static_cast<std::uint32_t*>(arg);
        std::memset(init, 0, 32);
        init[0] = kTargetGenericV8;
        return 0;
    }
    case kCreateDevice: {
        // kvm_ioctl_create_device: the vGICv3 (vgic_create: one per VM,
        // -EEXIST) and the ITS (vgic_its_create); anything else -ENODEV.
        auto* create = static_cast<kvm_create_device*>(arg);
        if (create->type == 7) {
            if (gic_fd_ >= 0) return refuse("KVM_CREATE_DEVICE(second vGIC)", EEXIST);
            gic_fd_ = memfd_create("model-vgic", MFD_CLOEXEC);
            create->fd = static_cast<std::uint32_t>(gic_fd_);
            return 0;
        }
        if (create->type == 8) {
            its_fd_ = memfd_create("model-its", MFD_CLOEXEC);
            create->fd = static_cast<std::uint32_t>(its_fd_);
            return 0;
        }
        return refuse("KVM_CREATE_DEVICE", ENODEV);
    }
    case kCreateGuestMemfd: {
        // kvm_gmem_create: flags must be known, size positive and page
        // aligned; only VMs with private memory have guest_memfd.
        if (!has_guest_memfd) return refuse("KVM_CREATE_GUEST_MEMFD", ENOTTY);
        const auto* c = static_cast<const std::uint64_t*>(arg);  // size, flags
        if (!seen_.realm_vm || c[1] != 0 || c[0] == 0 || c[0] % page_size)
            return refuse("KVM_CREATE_GUEST_MEMFD", EINVAL);
        int fd = memfd_create("model-gmem", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, static_cast<off_t>(c[0])) != 0) return -errno;
        gmem_[fd] = c[0];
        return fd;
    }
    case kSetUserMemoryRegion: {
        const auto& r = *static_cast<const kvm_userspace_memory_region*>(arg);
        if (r.flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) return refuse("KVM_SET_USER_MEMORY_REGION", EINVAL);
        return set_memory_region(r.slot, r.flags, r.guest_phys_addr, r.memory_size, r.userspace_addr, -1, 0);
    }
    case kSetUserMemoryRegion2: {
        if (!has_guest_memfd) return refuse("KVM_SET_USER_MEMORY_REGION2", ENOTTY);
        const auto* b = static_cast<const std::uint8_t*>(arg);
        std::uint32_t slot, flags, gmem;
        std::uint64_t gpa, size, uaddr, offset;
        std::memcpy(&slot, b, 4);
        std::memcpy(&flags, b + 4, 4);
        std::memcpy(&gpa, b + 8, 8);
        std::memcpy(&size, b + 16, 8);
        std::memcpy(&uaddr, b + 24, 8);
        std::memcpy(&offset, b + 32, 8);
        std::memcpy(&gmem, b + 40, 4);
        if (flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY | kMemGuestMemfd))
            return refuse("KVM_SET_USER_MEMORY_REGION2", EINVAL);
        return set_memory_region(slot, flags, gpa, size, uaddr, (flags & kMemGuestMemfd) ? static_cast<int>(gmem) : -1,
                                 offset);
    }
    case kSetMemoryAttributes: {
        // kvm_vm_ioctl_set_mem_attributes: no flags, only supported
        // attributes, non-empty, no wrap, page aligned.
        const auto* a = static_cast<const std::uint64_t*>(arg);  // address, size, attributes, flags
        const std::uint64_t supported = seen_.realm_vm ? kAttrPrivate : 0;
        if (a[3] || (a[2] & ~supported) || a[1] == 0 || a[0] + a[1] < a[0] || a[0] % page_size || a[1] % page_size)
            return refuse("KVM_SET_MEMORY_ATTRIBUTES", EINVAL);
        attributes_.push_back({a[0], a[0] + a[1], (a[2] & kAttrPrivate) != 0});
        return 0;
    }
    case kEnableCap: return enable_cap(*static_cast<const kvm_enable_cap*>(arg));
    case kRmiPopulateV12:
        if (host_ != Host::rmi_v12) return refuse("KVM_ARM_RMI_POPULATE(v12 number)", ENOTTY);
        return rmi_populate(arg, false);
    case kRmiPopulateV13:
        if (host_ != Host::rmi_v13 && host_ != Host::rmi_v14) return refuse("KVM_ARM_RMI_POPULATE(v13 number)", ENOTTY);
        return rmi_populate(arg, true);
    default: return refuse("VM ioctl", ENOTTY);
    }
}

// __kvm_set_memory_region / check_memory_region_flags: page-aligned size,
// GPA and host address; a guest_memfd slot binds a guest_memfd of this VM
// with offset + size inside it (kvm_gmem_bind: -EINVAL); slots must not
// overlap (-EEXIST).
int RmeKernelModel::set_memory_region(std::uint32_t slot_id, std::uint32_t, std::uint64_t gpa, std::uint64_t size,
                                      std::uint64_t uaddr, int gmem, std::uint64_t gmem_offset) {
    if (size % page_size || gpa % page_size || uaddr % page_size || size == 0)
        return refuse("memory region alignment", EINVAL);
    if (gmem >= 0) {
        auto it = gmem_.find(gmem);
        if (it == gmem_.end() || gmem_offset % page_size || gmem_offset + size > it->second)
            return refuse("guest_memfd binding", EINVAL);
    }
    for (const auto& [id, s] : slots_)
        if (id != slot_id && gpa < s.gpa + s.size && s.gpa < gpa + size) return refuse("memory region overlap", EEXIST);
    slots_[slot_id] = Slot{gpa, size, uaddr, gmem};
    return 0;
}

const RmeKernelModel::Slot* RmeKernelModel::slot_at(std::uint64_t gpa) const {
    for (const auto& [id, s] : slots_)
        if (gpa >= s.gpa && gpa - s.gpa < s.size) return &s;
    return nullptr;
}

bool RmeKernelModel::attribute_private(std::uint64_t page) const {
    for (auto it = attributes_.rbegin(); it != attributes_.rend(); ++it)
        if (page >= it->start && page < it->end) return it->is_private;
    return false;  // KVM's default: shared
}

std::optional<bool> RmeKernelModel::private_attribute(std::uint64_t gpa, std::uint64_t size) const {
    std::lock_guard lock(mutex_);
    const bool first = attribute_private(gpa);
    for (std::uint64_t p = gpa; p < gpa + size; p += kGranule)
        if (attribute_private(p) != first) return std::nullopt;
    return first;
}

// kvm_realm_enable_cap (v6 rme.c): the sub-commands in args[0], state checks
// as each handler makes them.
int RmeKernelModel::enable_cap(const kvm_enable_cap& cap) {
    if (!rme() || cap.cap != 300) return refuse("KVM_ENABLE_CAP(capability)", EINVAL);
    if (!seen_.realm_vm) return refuse("KVM_ENABLE_CAP(not a realm)", EINVAL);
    const auto* p = reinterpret_cast<const std::uint8_t*>(cap.args[1]);
    switch (cap.args[0]) {
    case 0: {  // CONFIG_REALM: kvm_rme_config_realm, only before the RD exists
        if (seen_.state != RealmState::none) return refuse("CONFIG_REALM after CREATE_RD", EBUSY);
        std::uint32_t cfg, hash;
        std::memcpy(&cfg, p, 4);
        std::memcpy(&hash, p + 4, 4);
        if (cfg == 0) {
            seen_.rpv.assign(p + 4, p + 4 + 64);
            return 0;
        }
        if (cfg == 1) {  // config_realm_hash_algo: SHA-256 (0) or SHA-512 (1)
            if (hash > 1) return refuse("CONFIG_REALM(hash)", EINVAL);
            seen_.hash_algo = hash;
            return 0;
        }
        return refuse("CONFIG_REALM(item)", EINVAL);
    }
    case 1:  // CREATE_RD: kvm_create_realm -> realm_create_rd, BRPs/WRPs from the VM's DFR0
        if (seen_.state != RealmState::none) return refuse("CREATE_RD twice", EEXIST);
        seen_.state = RealmState::created;
        seen_.dfr0_at_rd = vm_dfr0_;
        return 0;
    case 2: {  // INIT_IPA_REALM: kvm_init_ipa_range_realm
        std::uint64_t base, size;
        std::memcpy(&base, p, 8);
        std::memcpy(&size, p + 8, 8);
        if (base + size < base) return refuse("INIT_IPA_REALM(range)", EINVAL);
        if (seen_.state != RealmState::created) return refuse("INIT_IPA_REALM(state)", EINVAL);
        // RMI_RTT_INIT_RIPAS fails on an unaligned or unprotected range;
        // realm_init_ipa_state turns any RMI error into -ENXIO.
        if (base % kGranule || size % kGranule || base + size > (1ull << (seen_.ipa_bits - 1)))
            return refuse("INIT_IPA_REALM(RMI)", ENXIO);
        seen_.init_ripas.emplace_back(base, base + size);
        return 0;
    }
    case 3: {  // POPULATE_REALM: kvm_populate_realm
        std::uint64_t base, size;
        std::uint32_t flags;
        std::memcpy(&base, p, 8);
        std::memcpy(&size, p + 8, 8);
        std::memcpy(&flags, p + 16, 4);
        return rme_populate(base, size, flags);
    }
    case 4:  // ACTIVATE_REALM: kvm_activate_realm
        if (seen_.state != RealmState::created) return refuse("ACTIVATE_REALM(state)", EINVAL);
        seen_.state = RealmState::active;
        return 0;
    default: return refuse("KVM_ENABLE_CAP(sub-command)", EINVAL);
    }
}

// v6 kvm_populate_realm + populate_par_region
// (<20241212155610.76522-20-steven.price@arm.com>): state NEW, PAGE_SIZE
// alignment, only the MEASURE flag, no wrap; then per 2 MiB part: a memslot
// (-EFAULT), the part inside it (-EINVAL), a guest_memfd slot
// (kvm_slot_can_be_private, -EINVAL); the data is copied from the slot's
// userspace mapping into the guest_memfd page by RMI_DATA_CREATE.
int RmeKernelModel::rme_populate(std::uint64_t base, std::uint64_t size, std::uint32_t flags) {
    if (seen_.state != RealmState::created) return refuse("POPULATE_REALM(state)", EINVAL);
    if (base % page_size || size % page_size) return refuse("POPULATE_REALM(alignment)", EINVAL);
    if (flags & ~1u) return refuse("POPULATE_REALM(flags)", EINVAL);
    const std::uint64_t end = base + size;
    if (end < base) return refuse("POPULATE_REALM(range)", EINVAL);
    for (std::uint64_t part = base; part < end;) {
        const std::uint64_t part_end = std::min<std::uint64_t>(end, part + (2ull << 20));
        const Slot* slot = slot_at(part);
        if (!slot) return refuse("POPULATE_REALM(no memslot)", EFAULT);
        if (part_end > slot->gpa + slot->size) return refuse("POPULATE_REALM(crosses memslots)", EINVAL);
        if (slot->gmem < 0) return refuse("POPULATE_REALM(not a guest_memfd slot)", EINVAL);
        for (std::uint64_t ipa = part; ipa < part_end; ipa += kGranule) {
            const auto* source = reinterpret_cast<const std::uint8_t*>(slot->uaddr + (ipa - slot->gpa));
            if (int rc = data_create(ipa, source, flags & 1u, "POPULATE_REALM"); rc) return rc;
        }
        part = part_end;
    }
    return 0;
}

// RMI_DATA_CREATE (RMM 1.0 / 2.0): the granule's RTT entry must be
// unassigned, so a second populate of it fails; in RMM 1.0 the RMM measures
// the initial RIPAS first, which the model requires as INIT_IPA before
// POPULATE (kvmtool's order and the order the RIM is predicted in). The
// kernel turns any RMI error into -ENXIO (realm_create_protected_data_page).
int RmeKernelModel::data_create(std::uint64_t ipa, const std::uint8_t* source, bool measured, const char* call) {
    if (seen_.data.count(ipa)) return refuse(call, ENXIO);
    if (rme()) {
        bool ram = false;
        for (const auto& [b, e] : seen_.init_ripas) ram = ram || (ipa >= b && ipa < e);
        if (!ram) return refuse(call, ENXIO);
    }
    seen_.data[ipa] = DataGranule{ipa, measured, std::vector<std::uint8_t>(source, source + kGranule)};
    return 0;
}

// v12 kvm_arm_rmi_populate (<20251217101125.91098-21-steven.price@arm.com>):
// reserved zero, only the MEASURE flag, page-aligned base and end (-EINVAL);
// realm_ensure_created (none: make the RD; active: -EBUSY); then
// kvm_gmem_populate: a guest_memfd slot at base (-EINVAL), every page
// private (-EINVAL), and it may stop early. v12 returns the bytes done, as
// a long that ioctl(2) hands back as an int; v13/v14 advance base, size and
// source_uaddr in place and return 0.
int RmeKernelModel::rmi_populate(void* arg, bool in_place) {
    auto* a = static_cast<std::uint64_t*>(arg);  // base, size, source_uaddr, flags|reserved
    std::uint32_t flags, reserved;
    std::memcpy(&flags, &a[3], 4);
    std::memcpy(&reserved, reinterpret_cast<std::uint8_t*>(&a[3]) + 4, 4);
    seen_.populate_calls++;
    seen_.populate_sizes.push_back(a[1]);
    if (reserved || (flags & ~1u) || a[0] % page_size || (a[0] + a[1]) % page_size)
        return refuse("KVM_ARM_RMI_POPULATE(arguments)", EINVAL);
    if (seen_.state == RealmState::active) return refuse("KVM_ARM_RMI_POPULATE(after activation)", EBUSY);
    if (seen_.state == RealmState::none) {
        seen_.state = RealmState::created;
        seen_.dfr0_at_rd = vm_dfr0_;
    }
    const Slot* slot = slot_at(a[0]);
    if (!slot || slot->gmem < 0) return refuse("KVM_ARM_RMI_POPULATE(not a guest_memfd slot)", EINVAL);
    const std::uint64_t todo = std::min({a[1], populate_step, slot->gpa + slot->size - a[0]});
    for (std::uint64_t off = 0; off < todo; off += page_size)
        if (!attribute_private(a[0] + off)) return refuse("KVM_ARM_RMI_POPULATE(shared page)", EINVAL);
    for (std::uint64_t off = 0; off < todo; off += kGranule)
        if (int rc = data_create(a[0] + off, reinterpret_cast<const std::uint8_t*>(a[2] + off), flags & 1u,
                                 "KVM_ARM_RMI_POPULATE"); rc)
            return rc;
    if (!in_place) return static_cast<int>(static_cast<long>(todo));
    a[0] += todo;
    a[1] -= todo;
    a[2] += todo;
    return 0;
}

int RmeKernelModel::vcpu_ioctl(VcpuState& vcpu, int, unsigned long request, void* arg) {
    switch (request) {
    case kVcpuInit: {
        // kvm_vcpu_init_check_features: the preferred target, known features only.
        const auto* init = static_cast<const std::uint32_t*>(arg);
        if (init[0] != kTargetGenericV8) return refuse("KVM_ARM_VCPU_INIT(target)", EINVAL);
        const std::uint32_t known = kFeatPowerOff | kFeatPsci02 | (rme() ? kFeatRec : 0);
        if ((init[1] & ~known) || std::any_of(init + 2, init + 8, [](std::uint32_t f) { return f != 0; }))
            return refuse("KVM_ARM_VCPU_INIT(features)", ENOENT);
        vcpu.inited = true;
        vcpu.features = init[1];
        return 0;
    }
    case kVcpuFinalize: {
        // kvm_arm_vcpu_finalize(KVM_ARM_VCPU_REC) -> kvm_create_rec: the REC
        // feature and PSCI 0.2, the RD made; RMI_REC_CREATE fails once the
        // realm is active (-ENXIO). The REC takes the vCPU's registers now.
        const int what = *static_cast<const int*>(arg);
        if (!rme() || what != 8) return refuse("KVM_ARM_VCPU_FINALIZE(feature)", EINVAL);
        if (!(vcpu.features & kFeatRec) || !(vcpu.features & kFeatPsci02)) return refuse("KVM_ARM_VCPU_FINALIZE(REC)", EINVAL);
        if (vcpu.rec_finalized) return refuse("KVM_ARM_VCPU_FINALIZE(twice)", EPERM);
        if (seen_.state == RealmState::none) return refuse("KVM_ARM_VCPU_FINALIZE(no RD)", EINVAL);
        if (seen_.state == RealmState::active) return refuse("KVM_ARM_VCPU_FINALIZE(RMI_REC_CREATE)", ENXIO);
        vcpu.rec_finalized = true;
        make_rec(vcpu);
        return 0;
    }
    case kGetOneReg:
    case kSetOneReg: {
        const auto& reg = *static_cast<const kvm_one_reg*>(arg);
        std::uint64_t v = 0;
        if (request == kGetOneReg) {
            if (reg.id != kRegDfr0) return refuse("KVM_GET_ONE_REG", ENOENT);
            std::memcpy(reinterpret_cast<void*>(reg.addr), &vm_dfr0_, 8);
            return 0;
        }
        std::memcpy(&v, reinterpret_cast<const void*>(reg.addr), 8);
        if (reg.id == kRegDfr0) {
            // set_id_reg: ID registers are fixed once the RD holds them
            // (-EBUSY); BRPs, WRPs and CTX_CMPs are FTR_LOWER_SAFE (higher:
            // -E2BIG), other fields must stay. Stricter than KVM, which
            // clamps: CTX_CMPs above BRPs, or BRPs/WRPs 0 (architecturally
            // reserved), are -EINVAL here so a launcher cannot rely on them.
            if (seen_.state != RealmState::none) return refuse("SET ID_AA64DFR0_EL1 after the RD", EBUSY);
            const std::uint64_t mask = (0xfull << 12) | (0xfull << 20) | (0xfull << 28);
            if ((v & ~mask) != (host_dfr0 & ~mask) || field(v, 12) > field(host_dfr0, 12) ||
                field(v, 20) > field(host_dfr0, 20) || field(v, 28) > field(host_dfr0, 28))
                return refuse("SET ID_AA64DFR0_EL1(above the host)", E2BIG);
            if (field(v, 28) > field(v, 12) || field(v, 12) == 0 || field(v, 20) == 0)
                return refuse("SET ID_AA64DFR0_EL1(inconsistent)", EINVAL);
            // Seen on the series v7 kernel (Linux 6.14-rc1 + cca-host/v7)
            // under emulated RME, docs/arm-cca.md "A realm on emulated RME":
            // a lowered BRPs is -EINVAL while a lowered WRPs is taken.
            if (host_ == Host::rme_v7 && field(v, 12) != field(host_dfr0, 12))
                return refuse("SET ID_AA64DFR0_EL1(BRPs changed, v7)", EINVAL);
            vm_dfr0_ = v;
            return 0;
        }
        std::string name;
        if (reg.id == kRegPc) name = "pc";
        for (unsigned n = 0; n < 8; ++n)
            if (reg.id == kRegX0 + 2 * n) name = fmt::format("x{}", n);
        if (name.empty()) return refuse("KVM_SET_ONE_REG(register)", ENOENT);
        // A REC's registers are its RmiRecParams: fixed once the REC exists.
        if (vcpu.rec_finalized || (!rme() && seen_.state == RealmState::active))
            return refuse("KVM_SET_ONE_REG(after the REC)", EPERM);
        vcpu.regs[name] = v;
        return 0;
    }
    default: return refuse("vCPU ioctl", ENOTTY);
    }
}

void RmeKernelModel::make_rec(VcpuState& vcpu) {
    if (vcpu.id != 0) return;
    seen_.rec0 = vcpu.regs;
    seen_.rec0_made = true;
}

// RMI v12+: the first KVM_RUN activates (kvm_arch_vcpu_run_pid_change ->
// kvm_activate_realm): realm_ensure_created, an in-kernel vGIC
// (-EOPNOTSUPP), RECs for every vCPU, RIPAS RAM over the guest_memfd slots,
// RMI_REALM_ACTIVATE.
int RmeKernelModel::activate_rmi() {
    if (seen_.state == RealmState::active) return 0;
    if (seen_.state == RealmState::none) {
        seen_.state = RealmState::created;
        seen_.dfr0_at_rd = vm_dfr0_;
    }
    if (!gic_ready_) return refuse("activation without an in-kernel vGIC", EOPNOTSUPP);
    for (auto& [fd, v] : vcpus_) make_rec(v);
    seen_.state = RealmState::active;
    return 0;
}

// KVM_RUN: kvm_arch_vcpu_ioctl_run: an initialised vCPU (-ENOEXEC); RME:
// a finalized REC (-EPERM) of an active realm (kvm_rec_enter: -EINVAL).
// RIPAS changes as rec_exit_ripas_change reports them.
int RmeKernelModel::run(VcpuState& vcpu, int fd) {
    {
        std::lock_guard lock(mutex_);
        if (!vcpu.inited) return refuse("KVM_RUN(not initialised)", ENOEXEC);
        if (rme()) {
            if (!vcpu.rec_finalized) return refuse("KVM_RUN(REC not finalized)", EPERM);
            if (seen_.state != RealmState::active) return refuse("KVM_RUN(realm not active)", EINVAL);
        } else if (int rc = activate_rmi(); rc) {
            return rc;
        }
        if (vcpu.id == 0 && ripas_) {
            void* map = ::mmap(nullptr, FakeKvm::kRunSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (map == MAP_FAILED) return -errno;
            auto& run = *static_cast<kvm_run*>(map);
            bool report = false;
            if (run.immediate_exit) {
                ::munmap(map, FakeKvm::kRunSize);
                return -EINTR;
            }
            if (!seen_.ripas_reported) {
                report = true;
                seen_.ripas_reported = true;
            } else {
                // The change completes on this entry (kvm_complete_ripas_change);
                // a range still holding the old attribute would fault again
                // on the guest's next access (private_memslot_fault).
                bool converted = true;
                for (std::uint64_t p = ripas_->base; p < ripas_->top; p += kGranule)
                    converted = converted && attribute_private(p) == ripas_->to_ram;
                if (converted) {
                    seen_.ripas_completed = true;
                    ripas_.reset();
                } else {
                    report = true;
                    seen_.refaults++;
                }
            }
            if (report) {
                run.exit_reason = kExitMemoryFault;
                const std::uint64_t record[3] = {ripas_->to_ram ? kAttrPrivate : 0, ripas_->base,
                                                 ripas_->top - ripas_->base};
                std::memcpy(reinterpret_cast<std::uint8_t*>(&run) + 32, record, sizeof record);
                // A launcher that keeps re-entering unconverted gets an
                // internal error instead of an endless loop.
                const bool give_up = seen_.refaults > 3;
                if (give_up) run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
                ::munmap(map, FakeKvm::kRunSize);
                // v6 returns 0 for this exit; v7 and later -EFAULT, as
                // Documentation/virt/kvm/api.rst asks.
                return host_ == Host::rme_v6 || give_up ? 0 : -EFAULT;
            }
            ::munmap(map, FakeKvm::kRunSize);
        }
    }
    return fake_.ioctl(fd, KVM_RUN, nullptr);
}

} // namespace cvmtest::cca
