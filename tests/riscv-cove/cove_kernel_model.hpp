// A model of the RISC-V CoVE host KVM (Rivos, "[RFC 00/48] RISC-V CoVE
// support", 2023-04-19, Message-IDs <20230419221716.3603068-*@rivosinc.com>,
// and rivosinc/linux arch/riscv/kvm/cove.c) for the riscv-cove launcher's seam
// test. Each ioctl the launcher makes answers as the kernel function named
// beside it in cove_kernel_model.cpp: argument checks, state order (measure
// and memslots only before the TVM is finalized; finalize on the boot vCPU's
// first entry, with its pc and a1) and errno.
//
// What is not modelled, because it is the TSM's (Salus) behaviour, not the
// kernel's, or because no source was found: COVH errors (a page measured
// twice, a finalize the TSM refuses), the zero-page faults after finalize,
// and vCPU limits tighter than KVM_MAX_VCPUS.
//
// It builds on FakeKvm for fds (real memfds) and for vCPU 0's scripted exits.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cvm/kvm.hpp"
#include "fake_kvm.hpp"

namespace cvmtest::cove {

// One 4 KiB page the TSM measured (sbi_covh_add_measured_pages), with the
// bytes it copied from the host page at the time of the call.
struct MeasuredPage {
    std::uint64_t gpa = 0;
    std::uint64_t hva = 0;
    std::vector<std::uint8_t> bytes;
};

class CoveKernelModel final : public cvm::KvmSeam {
public:
    static constexpr std::uint64_t kPage = 4096;
    static constexpr unsigned long kVmTypeCove = 1ul << 9;        // RFC include/uapi/linux/kvm.h
    static constexpr unsigned long kMeasureRegion = 0x8018aeb5;   // _IOR(KVMIO, 0xb5, 24 bytes)

    // ---- the host ----
    bool cove_enabled = true;   // kvm_riscv_cove_init found COVH, NACL and a ready TSM
    unsigned gpa_bits = 41;     // kvm_riscv_gstage_gpa_bits: 41 for Sv39x4 (the host's G-stage mode)
    std::uint32_t aia_mode = 1;      // KVM_DEV_RISCV_AIA_MODE_HWACCEL: the host's IMSICs have guest files
    std::uint32_t aia_nr_ids = 255;  // the ids of the host IMSIC's guest files

    // ---- the guest ----
    void script(std::deque<FakeKvm::Exit> exits) { fake_.script(std::move(exits)); }

    // ---- what the kernel saw ----
    struct Observed {
        bool cove_vm = false;
        bool finalized = false;
        std::uint64_t finalize_pc = 0, finalize_a1 = 0;  // what sbi_covh_tsm_finalize_tvm was given
        std::uint64_t conf_gpa = 0, conf_size = 0;        // the confidential region (last memslot)
        std::vector<MeasuredPage> measured;               // in call order
        std::vector<unsigned> vcpu_ids;
        std::map<std::string, std::uint64_t> vcpu0_regs;  // "pc", "a0", "a1", ... as set by ONE_REG
        int regs_after_finalize = 0;   // ONE_REG writes that no longer reach the TVM
        int tvm_vcpus_missing = 0;     // vCPUs the TSM never created (made after finalize)
        std::vector<std::string> impossible_exits;  // scripted exits a TVM cannot take
        std::vector<std::string> refused;           // "<call>: <errno text>" for every refusal
        // The AIA device as aia_device.c holds it.
        bool aia_created = false, aia_initialized = false;
        std::uint32_t aia_hart_bits = 0;
        std::map<unsigned, std::uint64_t> imsic_addr;  // by vCPU id
    };
    Observed seen() const;

    int open(const char* path, int flags) override;
    int ioctl(int fd, unsigned long request, void* arg) override;
    int mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) override;

private:
    struct Slot {
        std::uint64_t gpa, size, uaddr;
    };
    struct VcpuState {
        unsigned id = 0;
        bool tvm_vcpu = false;  // sbi_covh_create_tvm_vcpu succeeded
        std::map<unsigned, std::uint64_t> core;  // struct kvm_riscv_core, by index
    };

    int refuse(const char* call, int err);
    int create_vm(unsigned long type);
    int vm_ioctl(unsigned long request, void* arg);
    int set_memory_region(const void* arg);
    int measure_region(const void* arg);
    int create_vcpu(unsigned long id);
    int set_one_reg(VcpuState& vcpu, const void* arg);
    int create_device(void* arg);
    int aia_attr(bool write, const void* arg);
    int run(int fd);

    FakeKvm fake_;
    mutable std::mutex mutex_;
    std::set<int> system_fds_;
    int vm_fd_ = -1;
    int aia_fd_ = -1;
    std::map<int, VcpuState> vcpus_;
    std::map<std::uint32_t, Slot> slots_;
    Observed seen_;
};

} // namespace cvmtest::cove
