// A model of the CCA host KVM, for the realm launcher's seam tests: the
// ioctls a realm launch makes, each answering as the kernel function named
// beside it in rme_kernel_model.cpp does (argument checks, state order,
// errno), for both host ABIs:
//   KVM_CAP_ARM_RME, series v6 and v7 (Message-IDs <20241212155610.76522-*>
//   and the v7 posting of 2025-02-13), arch/arm64/kvm/rme.c, rme-exit.c;
//   KVM_CAP_ARM_RMI, series v12 (<20251217101125.91098-*>), v13 and v14,
//   arch/arm64/kvm/rmi.c, rmi-exit.c,
// plus the generic guest_memfd and memory-attribute ioctls of Linux 6.8+
// (virt/kvm/kvm_main.c, guest_memfd.c) and the arm64 vCPU, ID register and
// vGIC calls a realm needs. Where the RMM, not the kernel, refuses a step
// (RMI_DATA_CREATE on a granule twice, RMI_REC_CREATE once the realm is
// active) the model returns the errno the kernel turns that RMI error into.
//
// It builds on FakeKvm for fds (real memfds) and for the guest's scripted
// exits on vCPU 0; a scripted RIPAS change is reported as the series report
// it (v6: KVM_RUN returns 0 with KVM_EXIT_MEMORY_FAULT; v7 and later: -EFAULT
// with it), and the next KVM_RUN checks that userspace converted the range
// first, as a real guest would otherwise fault on it again.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cvm/kvm.hpp"
#include "fake_kvm.hpp"

namespace cvmtest::cca {

enum class Host { rme_v6, rme_v7, rmi_v12, rmi_v13, rmi_v14 };
const char* host_name(Host host);

// The guest asks for [base, top) to become RIPAS EMPTY (shared) or RAM.
struct RipasChange {
    std::uint64_t base = 0;
    std::uint64_t top = 0;
    bool to_ram = false;
};

// One populated granule as the RMM measured it.
struct DataGranule {
    std::uint64_t ipa = 0;
    bool measured = false;
    std::vector<std::uint8_t> bytes;  // the 4 KiB copied from the source
};

enum class RealmState { none, created, active };

class RmeKernelModel final : public cvm::KvmSeam {
public:
    explicit RmeKernelModel(Host host);

    // ---- the host ----
    unsigned ipa_limit = 40;              // KVM_CAP_ARM_VM_IPA_SIZE
    bool has_guest_memfd = true;          // KVM_CAP_GUEST_MEMFD / USER_MEMORY2
    std::uint64_t page_size = 4096;       // the host kernel's PAGE_SIZE
    std::uint64_t populate_step = 2 << 20;  // most a populate call does (RMI ABIs)
    // 6 breakpoints of which 4 context-aware, 4 watchpoints, DebugVer 8.
    std::uint64_t host_dfr0 = (3ull << 28) | (3ull << 20) | (5ull << 12) | 8;

    // ---- the guest ----
    void script(std::deque<FakeKvm::Exit> exits) { fake_.script(std::move(exits)); }
    // vCPU 0's first entry asks for this change before any scripted exit.
    void ripas_change_on_entry(RipasChange change) { ripas_ = change; }

    // ---- what the kernel saw ----
    struct Observed {
        RealmState state = RealmState::none;
        bool realm_vm = false;
        unsigned ipa_bits = 0;
        std::uint32_t hash_algo = 0;
        std::vector<std::uint8_t> rpv = std::vector<std::uint8_t>(64, 0);
        std::uint64_t dfr0_at_rd = 0;          // the VM's DFR0 when the RD was made
        std::map<std::uint64_t, DataGranule> data;  // by IPA
        std::vector<std::pair<std::uint64_t, std::uint64_t>> init_ripas;  // [base, end)
        std::map<std::string, std::uint64_t> rec0;  // vCPU 0's pc, x0..x7 when its REC was made
        bool rec0_made = false;
        int vms = 0;
        int populate_calls = 0;
        std::vector<std::uint64_t> populate_sizes;  // size asked by each RMI populate call
        bool ripas_reported = false, ripas_completed = false;
        int refaults = 0;                       // entries that found the range not converted
        std::vector<std::string> refused;       // "<call>: <errno>" for every refusal
        // The in-kernel interrupt controller as KVM holds it at CTRL_INIT.
        std::uint64_t gic_dist = ~0ull;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> redist_regions;  // base, count (0: legacy, per vCPU)
        std::optional<std::uint64_t> its_base;
        bool its_initialized = false;
    };
    Observed seen() const;
    // The attribute KVM holds for every page of [gpa, gpa+size): true when
    // all are private, false when all are shared, nothing when mixed.
    std::optional<bool> private_attribute(std::uint64_t gpa, std::uint64_t size) const;

    int open(const char* path, int flags) override;
    int ioctl(int fd, unsigned long request, void* arg) override;
    int mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) override;

private:
    struct Slot {
        std::uint64_t gpa, size, uaddr;
        int gmem;  // -1: an ordinary slot
    };
    struct VcpuState {
        unsigned id = 0;
        bool inited = false;
        std::uint32_t features = 0;
        bool rec_finalized = false;
        std::map<std::string, std::uint64_t> regs;
    };
    struct Attr {
        std::uint64_t start, end;
        bool is_private;
    };

    bool rme() const { return host_ == Host::rme_v6 || host_ == Host::rme_v7; }
    int refuse(const char* call, int err);
    int check_extension(bool on_vm, unsigned long cap) const;
    int create_vm(unsigned long type);
    int vm_ioctl(unsigned long request, void* arg);
    int vcpu_ioctl(VcpuState& vcpu, int fd, unsigned long request, void* arg);
    int enable_cap(const kvm_enable_cap& cap);
    int set_memory_region(std::uint32_t slot_id, std::uint32_t flags, std::uint64_t gpa, std::uint64_t size,
                          std::uint64_t uaddr, int gmem, std::uint64_t gmem_offset);
    int rme_populate(std::uint64_t base, std::uint64_t size, std::uint32_t flags);
    int rmi_populate(void* arg, bool in_place);
    int data_create(std::uint64_t ipa, const std::uint8_t* source, bool measured, const char* call);
    int run(VcpuState& vcpu, int fd);
    int activate_rmi();
    void make_rec(VcpuState& vcpu);
    const Slot* slot_at(std::uint64_t gpa) const;
    bool attribute_private(std::uint64_t page) const;

    Host host_;
    FakeKvm fake_;
    mutable std::mutex mutex_;
    std::set<int> system_fds_;
    int vm_fd_ = -1;
    std::map<int, VcpuState> vcpus_;
    std::map<int, std::uint64_t> gmem_;  // fd -> size
    std::map<std::uint32_t, Slot> slots_;
    std::vector<Attr> attributes_;
    int gic_fd_ = -1, its_fd_ = -1;
    bool gic_ready_ = false;
    int gic_attr(const kvm_device_attr& a);
    int its_attr(const kvm_device_attr& a);
    std::uint64_t vm_dfr0_;
    std::optional<RipasChange> ripas_;
    Observed seen_;
};

} // namespace cvmtest::cca
