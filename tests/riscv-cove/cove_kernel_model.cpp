// Sources, named at each function below:
//   [RFC 11/48] "Use the new VM IOCTL for measuring pages"
//       <20230419221716.3603068-12-atishp@rivosinc.com>: arch/riscv/kvm/vm.c kvm_arch_vm_ioctl
//   [RFC 19/48] (mmu.c hunk, quoted in Sean Christopherson's review of the
//       series): arch/riscv/kvm/mmu.c kvm_arch_prepare_memory_region
//   [RFC 33/48] "Hookup TVM VCPU init/destroy"
//       <20230419221716.3603068-34-atishp@rivosinc.com>: vcpu.c kvm_arch_vcpu_postcreate
//   [RFC 35/48] "Add TVM init/destroy calls"
//       <20230419221716.3603068-36-atishp@rivosinc.com>: vm.c kvm_arch_init_vm
//   rivosinc/linux arch/riscv/kvm/cove.c (stored commit 0177a2d6):
//       kvm_riscv_cove_vm_measure_pages, kvm_riscv_cove_vm_add_memreg,
//       kvm_riscv_cove_vcpu_init, kvm_riscv_cove_vcpu_switchto,
//       kvm_riscv_cove_vcpu_sbi_ecall. That is a later branch than the RFC
//       posting; the measure function's opening as quoted in the RFC review
//       matches it, the rest was not compared line by line.
//   Generic KVM (virt/kvm/kvm_main.c, Linux 6.3, the RFC's base):
//       __kvm_set_memory_region, kvm_vm_ioctl_create_vcpu; arch/riscv/kvm/vcpu.c
//       kvm_riscv_vcpu_set_reg_core.
#include "cove_kernel_model.hpp"

#include <cerrno>
#include <cstring>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace cvmtest::cove {
namespace {

// RISC-V KVM_MAX_VCPUS (arch/riscv/include/asm/kvm_host.h); KVM_MAX_VCPU_IDS
// defaults to it.
constexpr unsigned kMaxVcpus = 1024;

// KVM_SET_ONE_REG id fields (include/uapi/linux/kvm.h and the RISC-V
// include/uapi/asm/kvm.h).
constexpr std::uint64_t kRegSizeMask = 0x00f0000000000000ULL;
constexpr unsigned kRegSizeShift = 52;
constexpr std::uint64_t kRegArchMask = 0xff00000000000000ULL;
constexpr std::uint64_t kRegRiscvTypeMask = 0x00000000ff000000ULL;
constexpr std::uint64_t kRegRiscvCore = 0x02ULL << 24;
// struct kvm_riscv_core: user_regs_struct (pc, then x1..x31) and mode.
constexpr unsigned kCoreRegs = 33;

// SBI extensions the CoVE ecall path hands to KVM's handlers for a TVM
// (cove.c kvm_riscv_cove_vcpu_sbi_ecall); of these, only the legacy console
// putchar and DBCN end in a KVM_EXIT_RISCV_SBI to userspace (SRST becomes a
// system event, HSM and COVG stay in the kernel). Any other call the kernel
// answers itself with SBI_ERR_NOT_SUPPORTED.
constexpr unsigned long kSbiLegacyPutchar = 0x01;
constexpr unsigned long kSbiExtDbcn = 0x4442434E;

// copy_from_user for an address the caller gave: fails (-EFAULT in the kernel)
// where nothing is mapped, instead of crashing the test. The bytes pass
// through a pipe because write(2) reports an unmapped source as EFAULT both
// natively and under qemu-user, which does not implement process_vm_readv
// (the cross builds run this model there). Sizes stay below a pipe's 64 KiB.
bool copy_from_user(void* to, std::uint64_t from, std::size_t n) {
    if (from == 0) return false;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    const bool ok = write(fds[1], reinterpret_cast<const void*>(from), n) == static_cast<ssize_t>(n) &&
                    read(fds[0], to, n) == static_cast<ssize_t>(n);
    close(fds[0]);
    close(fds[1]);
    return ok;
}

// The kernel's copy_to_user: a bad destination is -EFAULT, here the pipe's.
bool copy_to_user(std::uint64_t to, const void* from, std::size_t n) {
    if (to == 0) return false;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    const bool ok = write(fds[1], from, n) == static_cast<ssize_t>(n) &&
                    read(fds[0], reinterpret_cast<void*>(to), n) == static_cast<ssize_t>(n);
    close(fds[0]);
    close(fds[1]);
    return ok;
}

std::string core_name(unsigned index) {
    static const char* const names[kCoreRegs] = {
        "pc", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6",
        "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6", "mode"};
    return names[index];
}

} // namespace

CoveKernelModel::Observed CoveKernelModel::seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
}

int CoveKernelModel::refuse(const char* call, int err) {
    seen_.refused.push_back(fmt::format("{}: {}", call, std::strerror(err)));
    return -err;
}

int CoveKernelModel::open(const char* path, int flags) {
    int fd = fake_.open(path, flags);
    std::lock_guard lock(mutex_);
    if (fd >= 0) system_fds_.insert(fd);
    return fd;
}

int CoveKernelModel::mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) {
    return fake_.mmap(out, length, prot, flags, fd, offset);
}

int CoveKernelModel::ioctl(int fd, unsigned long request, void* arg) {
    std::unique_lock lock(mutex_);
    const auto value = reinterpret_cast<unsigned long>(arg);
    if (system_fds_.count(fd)) {
        if (request == KVM_GET_API_VERSION || request == KVM_GET_VCPU_MMAP_SIZE) {
            lock.unlock();
            return fake_.ioctl(fd, request, arg);
        }
        // vm.c kvm_vm_ioctl_check_extension: ONE_REG is 1 on every RISC-V host.
        if (request == KVM_CHECK_EXTENSION) return value == static_cast<unsigned long>(KVM_CAP_ONE_REG) ? 1 : 0;
        if (request == KVM_CREATE_VM) return create_vm(value);
        return refuse("system ioctl (not modelled)", ENOTTY);
    }
    if (fd == vm_fd_) return vm_ioctl(request, arg);
    if (fd == aia_fd_ && (request == KVM_SET_DEVICE_ATTR || request == KVM_GET_DEVICE_ATTR))
        return aia_attr(request == KVM_SET_DEVICE_ATTR, arg);
    if (auto it = vcpus_.find(fd); it != vcpus_.end()) {
        if (request == KVM_RUN) {
            lock.unlock();
            return run(fd);
        }
        if (request == KVM_SET_ONE_REG) return set_one_reg(it->second, arg);
        return refuse("vCPU ioctl (not modelled)", ENOTTY);
    }
    return refuse("ioctl on an fd the model never handed out", EBADF);
}

// [RFC 35/48] vm.c kvm_arch_init_vm: the CoVE type needs CoVE enabled at
// module init (-EPERM otherwise), then kvm_riscv_cove_vm_init creates the
// TVM. Any other type is not checked: the VM is an ordinary one.
int CoveKernelModel::create_vm(unsigned long type) {
    if (vm_fd_ >= 0) return refuse("KVM_CREATE_VM (the model holds one VM)", EBUSY);
    if (type == kVmTypeCove && !cove_enabled) return refuse("KVM_CREATE_VM(CoVE, CoVE not enabled)", EPERM);
    int fd = fake_.ioctl(-1, KVM_CREATE_VM, reinterpret_cast<void*>(type));
    if (fd < 0) return fd;
    vm_fd_ = fd;
    seen_.cove_vm = type == kVmTypeCove;
    return fd;
}

int CoveKernelModel::vm_ioctl(unsigned long request, void* arg) {
    if (request == KVM_SET_USER_MEMORY_REGION) return set_memory_region(arg);
    if (request == KVM_CREATE_VCPU) return create_vcpu(reinterpret_cast<unsigned long>(arg));
    if (request == KVM_CHECK_EXTENSION)
        return reinterpret_cast<unsigned long>(arg) == static_cast<unsigned long>(KVM_CAP_ONE_REG) ? 1 : 0;
    if (request == kMeasureRegion) return measure_region(arg);
    if (request == KVM_CREATE_DEVICE) return create_device(arg);
    // [RFC 11/48] kvm_arch_vm_ioctl: every other arch VM ioctl is -EINVAL.
    return refuse("VM ioctl", EINVAL);
}

// kvm_main.c kvm_ioctl_create_device, then the AIA device's create
// (arch/riscv/kvm/aia_device.c aia_create, with the host's AIA series the
// CoVE trees carry): only KVM_DEV_TYPE_RISCV_AIA (11) here (-ENODEV), one
// per VM (-EEXIST: the irqchip is in the kernel already), and none once a
// vCPU has run (-EBUSY).
int CoveKernelModel::create_device(void* arg) {
    kvm_create_device create{};
    if (!copy_from_user(&create, reinterpret_cast<std::uint64_t>(arg), sizeof create))
        return refuse("KVM_CREATE_DEVICE(copy)", EFAULT);
    if (create.type != 11) return refuse("KVM_CREATE_DEVICE(type)", ENODEV);
    if (seen_.aia_created) return refuse("KVM_CREATE_DEVICE(second AIA)", EEXIST);
    if (seen_.finalized) return refuse("KVM_CREATE_DEVICE(a vCPU ran)", EBUSY);
    aia_fd_ = memfd_create("model-aia", MFD_CLOEXEC);
    if (aia_fd_ < 0) return -errno;
    seen_.aia_created = true;
    auto* out = static_cast<kvm_create_device*>(arg);
    out->fd = static_cast<std::uint32_t>(aia_fd_);
    return 0;
}

// aia_device.c aia_get_attr / aia_set_attr:
//   CONFIG (0): MODE (0) and IDS (1) read what the host has; HART_BITS (5)
//     at most 16 (-EINVAL); any write after init -EBUSY;
//   ADDR (1): IMSIC(v) = 1 + v for an existing vCPU v (kvm_get_vcpu_by_id,
//     -EINVAL otherwise), 4 KiB aligned (KVM_DEV_RISCV_IMSIC_ALIGN, -EINVAL),
//     not after init (-EBUSY); the APLIC (0) is not modelled (a TVM has none);
//   CTRL (2) INIT (0): aia_init: once (-EBUSY), every vCPU with its IMSIC
//     address (-EINVAL).
int CoveKernelModel::aia_attr(bool write, const void* arg) {
    kvm_device_attr a{};
    if (!copy_from_user(&a, reinterpret_cast<std::uint64_t>(arg), sizeof a)) return refuse("AIA attribute(copy)", EFAULT);
    auto put32 = [&](std::uint32_t v) {
        return copy_to_user(a.addr, &v, sizeof v) ? 0 : refuse("AIA attribute(copy out)", EFAULT);
    };
    if (a.group == 0) {
        if (write && seen_.aia_initialized) return refuse("AIA config after init", EBUSY);
        if (!write && a.attr == 0) return put32(aia_mode);
        if (!write && a.attr == 1) return put32(aia_nr_ids);
        if (write && a.attr == 5) {
            std::uint32_t bits = 0;
            if (!copy_from_user(&bits, a.addr, sizeof bits)) return refuse("AIA hart bits(copy)", EFAULT);
            if (bits > 16) return refuse("AIA hart bits", EINVAL);
            seen_.aia_hart_bits = bits;
            return 0;
        }
        return refuse("AIA config attribute (not modelled)", ENXIO);
    }
    if (a.group == 1 && write && a.attr >= 1) {
        const unsigned vcpu = static_cast<unsigned>(a.attr - 1);
        bool exists = false;
        for (const auto& [fd, state] : vcpus_) exists |= state.id == vcpu;
        if (!exists) return refuse("AIA IMSIC address of a missing vCPU", EINVAL);
        std::uint64_t address = 0;
        if (!copy_from_user(&address, a.addr, sizeof address)) return refuse("AIA IMSIC address(copy)", EFAULT);
        if (address % 0x1000) return refuse("AIA IMSIC address alignment", EINVAL);
        if (seen_.aia_initialized) return refuse("AIA IMSIC address after init", EBUSY);
        seen_.imsic_addr[vcpu] = address;
        return 0;
    }
    if (a.group == 2 && write && a.attr == 0) {
        if (seen_.aia_initialized) return refuse("AIA init twice", EBUSY);
        for (const auto& [fd, state] : vcpus_)
            if (!seen_.imsic_addr.count(state.id)) return refuse("AIA init (a vCPU without an IMSIC address)", EINVAL);
        seen_.aia_initialized = true;
        return 0;
    }
    return refuse("AIA attribute (not modelled)", ENXIO);
}

// kvm_main.c __kvm_set_memory_region (flags, page alignment of size, GPA and
// host address, wrap-around: -EINVAL; overlap with another slot: -EEXIST;
// size 0 deletes), then mmu.c kvm_arch_prepare_memory_region (a slot ending
// at or past the G-stage GPA space: -EFAULT) and, for a TVM, [RFC 19/48]
// kvm_riscv_cove_vm_add_memreg: -EINVAL after finalize, else the slot becomes
// THE confidential region, replacing any earlier one (one region tracked).
// A delete returns from kvm_arch_prepare_memory_region before the CoVE hook.
// Not modelled: the slot-count limit, and what the TSM's AddMemoryRegion
// refuses.
int CoveKernelModel::set_memory_region(const void* arg) {
    kvm_userspace_memory_region r;
    if (!copy_from_user(&r, reinterpret_cast<std::uint64_t>(arg), sizeof r))
        return refuse("KVM_SET_USER_MEMORY_REGION(copy)", EFAULT);
    if (r.flags & ~static_cast<std::uint32_t>(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY))
        return refuse("KVM_SET_USER_MEMORY_REGION(flags)", EINVAL);
    if (r.memory_size % kPage || r.guest_phys_addr % kPage || r.userspace_addr % kPage)
        return refuse("KVM_SET_USER_MEMORY_REGION(alignment)", EINVAL);
    if (r.guest_phys_addr + r.memory_size < r.guest_phys_addr)
        return refuse("KVM_SET_USER_MEMORY_REGION(wraps)", EINVAL);
    if (r.memory_size == 0) {
        slots_.erase(r.slot);
        return 0;
    }
    for (const auto& [id, s] : slots_)
        if (id != r.slot && r.guest_phys_addr < s.gpa + s.size && s.gpa < r.guest_phys_addr + r.memory_size)
            return refuse("KVM_SET_USER_MEMORY_REGION(overlap)", EEXIST);
    if ((r.guest_phys_addr + r.memory_size) / kPage >= (1ULL << gpa_bits) / kPage)
        return refuse("KVM_SET_USER_MEMORY_REGION(past the G-stage GPA space)", EFAULT);
    if (seen_.cove_vm) {
        if (seen_.finalized) return refuse("KVM_SET_USER_MEMORY_REGION(TVM finalized)", EINVAL);
        seen_.conf_gpa = r.guest_phys_addr;
        seen_.conf_size = (r.memory_size + kPage - 1) / kPage * kPage;  // bytes_to_pages
    }
    slots_[r.slot] = Slot{r.guest_phys_addr, r.memory_size, r.userspace_addr};
    return 0;
}

// [RFC 11/48] kvm_arch_vm_ioctl: -EINVAL on a VM that is not a TVM, -EFAULT
// if the argument cannot be read; then cove.c kvm_riscv_cove_vm_measure_pages:
// -EINVAL once finalized; -EINVAL unless userspace_addr and gpa are 4 KiB
// aligned, size is not 0, and [gpa, gpa+size) (size as given, not rounded)
// lies inside the confidential region. Then page by page (size rounded up):
// the host page is pinned read-only (a failure returns the pinning errno,
// -EFAULT where nothing is mapped) and the TSM copies and measures it into a
// fresh confidential page at gpa. The kernel never checks that the host page
// is the one the memslot maps at gpa: the TVM sees what was measured.
// Not modelled: on a mid-region failure the kernel reclaims its whole list of
// measured pages; COVH refusals (a GPA measured twice) are the TSM's.
int CoveKernelModel::measure_region(const void* arg) {
    if (!seen_.cove_vm) return refuse("KVM_RISCV_COVE_MEASURE_REGION(not a TVM)", EINVAL);
    std::uint64_t mr[3];  // userspace_addr, gpa, size
    if (!copy_from_user(mr, reinterpret_cast<std::uint64_t>(arg), sizeof mr))
        return refuse("KVM_RISCV_COVE_MEASURE_REGION(copy)", EFAULT);
    if (seen_.finalized) return refuse("KVM_RISCV_COVE_MEASURE_REGION(after finalize)", EINVAL);
    const std::uint64_t hva = mr[0], gpa = mr[1], size = mr[2];
    if (hva % kPage || gpa % kPage) return refuse("KVM_RISCV_COVE_MEASURE_REGION(alignment)", EINVAL);
    if (size == 0) return refuse("KVM_RISCV_COVE_MEASURE_REGION(size 0)", EINVAL);
    // cove_is_within_region(conf.gpa, conf.npages << PAGE_SHIFT, gpa, size)
    if (!(seen_.conf_gpa <= gpa && seen_.conf_gpa + seen_.conf_size >= gpa + size))
        return refuse("KVM_RISCV_COVE_MEASURE_REGION(outside the confidential region)", EINVAL);
    const std::uint64_t pages = (size + kPage - 1) / kPage;
    std::vector<MeasuredPage> added;
    for (std::uint64_t i = 0; i < pages; ++i) {
        MeasuredPage page{gpa + i * kPage, hva + i * kPage, std::vector<std::uint8_t>(kPage)};
        if (!copy_from_user(page.bytes.data(), page.hva, kPage))
            return refuse("KVM_RISCV_COVE_MEASURE_REGION(host page not mapped)", EFAULT);
        added.push_back(std::move(page));
    }
    for (auto& p : added) seen_.measured.push_back(std::move(p));
    return 0;
}

// kvm_main.c kvm_vm_ioctl_create_vcpu: an id at or past KVM_MAX_VCPU_IDS, or
// more than KVM_MAX_VCPUS vCPUs: -EINVAL; an id in use: -EEXIST. For a TVM,
// [RFC 33/48] kvm_arch_vcpu_postcreate then runs kvm_riscv_cove_vcpu_init,
// which fails after finalize (cove.c) — but postcreate returns nothing, so
// the fd is handed out anyway, for a vCPU the TSM does not know.
// Postcreate also leaves every vCPU but id 0 powered off.
int CoveKernelModel::create_vcpu(unsigned long id) {
    if (vm_fd_ < 0) return refuse("KVM_CREATE_VCPU(no VM)", EBADF);
    if (id >= kMaxVcpus) return refuse("KVM_CREATE_VCPU(id)", EINVAL);
    if (vcpus_.size() >= kMaxVcpus) return refuse("KVM_CREATE_VCPU(too many)", EINVAL);
    for (const auto& [fd, v] : vcpus_)
        if (v.id == id) return refuse("KVM_CREATE_VCPU(id in use)", EEXIST);
    int fd = fake_.ioctl(vm_fd_, KVM_CREATE_VCPU, reinterpret_cast<void*>(id));
    if (fd < 0) return fd;
    VcpuState vcpu;
    vcpu.id = static_cast<unsigned>(id);
    vcpu.tvm_vcpu = seen_.cove_vm && !seen_.finalized;
    if (seen_.cove_vm && seen_.finalized) {
        ++seen_.tvm_vcpus_missing;
        seen_.refused.push_back("KVM_CREATE_VCPU(after finalize): TSM vCPU not created, fd returned");
    }
    vcpus_[fd] = vcpu;
    seen_.vcpu_ids.push_back(vcpu.id);
    return fd;
}

// vcpu.c kvm_riscv_vcpu_set_reg_core (Linux 6.3): the size in the id must be
// sizeof(unsigned long) and the index inside struct kvm_riscv_core, else
// -EINVAL (6.5 and later say -ENOENT for the index); the value is read from
// reg->addr (-EFAULT); pc goes to sepc, x1..x31 to the saved GPRs. The CoVE
// series adds no check here: for a TVM the write lands in the host's copy of
// the context, which the TSM reads only through finalize (pc and a1, see
// run()); a write after finalize, and a0 at any time, never reach the TVM.
// Only the core register class is modelled; the model refuses the others.
int CoveKernelModel::set_one_reg(VcpuState& vcpu, const void* arg) {
    kvm_one_reg reg;
    if (!copy_from_user(&reg, reinterpret_cast<std::uint64_t>(arg), sizeof reg))
        return refuse("KVM_SET_ONE_REG(copy)", EFAULT);
    if ((reg.id & kRegArchMask) != KVM_REG_RISCV) return refuse("KVM_SET_ONE_REG(arch)", EINVAL);
    if ((reg.id & kRegRiscvTypeMask) != kRegRiscvCore) return refuse("KVM_SET_ONE_REG(class not modelled)", EINVAL);
    const std::uint64_t size = 1ULL << ((reg.id & kRegSizeMask) >> kRegSizeShift);
    if (size != sizeof(std::uint64_t)) return refuse("KVM_SET_ONE_REG(size)", EINVAL);
    const auto index = reg.id & ~(kRegArchMask | kRegSizeMask | kRegRiscvCore);
    if (index >= kCoreRegs) return refuse("KVM_SET_ONE_REG(core index)", EINVAL);
    std::uint64_t value;
    if (!copy_from_user(&value, reg.addr, sizeof value)) return refuse("KVM_SET_ONE_REG(value)", EFAULT);
    vcpu.core[static_cast<unsigned>(index)] = value;
    if (seen_.cove_vm && seen_.finalized) ++seen_.regs_after_finalize;
    if (vcpu.id == 0) seen_.vcpu0_regs[core_name(static_cast<unsigned>(index))] = value;
    return 0;
}

// KVM_RUN. kvm_arch_vcpu_ioctl_run returns -EINTR before entering the guest
// when immediate_exit is set. A powered-off vCPU (id != 0, postcreate) waits
// in the kernel for an HSM start, never reaching the TSM; FakeKvm plays that
// wait. The first entry of a runnable TVM vCPU finalizes the TVM with that
// vCPU's sepc and a1 (cove.c kvm_riscv_cove_vcpu_switchto ->
// sbi_covh_tsm_finalize_tvm); from then on measure and memslot calls are
// refused. A vCPU the TSM never created has no CoVE context, which the RFC
// dereferences on entry; the model fails that run with -EIO rather than
// guess what such a kernel does.
int CoveKernelModel::run(int fd) {
    {
        std::lock_guard lock(mutex_);
        VcpuState& vcpu = vcpus_.at(fd);
        if (seen_.cove_vm && !vcpu.tvm_vcpu) return refuse("KVM_RUN(no TSM vCPU)", EIO);
        if (seen_.cove_vm && vcpu.id == 0 && !seen_.finalized) {
            void* map = ::mmap(nullptr, FakeKvm::kRunSize, PROT_READ, MAP_SHARED, fd, 0);
            if (map == MAP_FAILED) return -errno;
            const bool immediate = static_cast<kvm_run*>(map)->immediate_exit;
            ::munmap(map, FakeKvm::kRunSize);
            if (immediate) return -EINTR;
            seen_.finalized = true;
            seen_.finalize_pc = vcpu.core[0];
            seen_.finalize_a1 = vcpu.core[11];
        }
    }
    int rc = fake_.ioctl(fd, KVM_RUN, nullptr);
    if (rc != 0) return rc;
    void* map = ::mmap(nullptr, FakeKvm::kRunSize, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) return -errno;
    const auto& r = *static_cast<const kvm_run*>(map);
    if (r.exit_reason == KVM_EXIT_RISCV_SBI && r.riscv_sbi.extension_id != kSbiLegacyPutchar &&
        r.riscv_sbi.extension_id != kSbiExtDbcn) {
        std::lock_guard lock(mutex_);
        seen_.impossible_exits.push_back(fmt::format("SBI extension {:#x}", r.riscv_sbi.extension_id));
    }
    ::munmap(map, FakeKvm::kRunSize);
    return 0;
}

} // namespace cvmtest::cove
