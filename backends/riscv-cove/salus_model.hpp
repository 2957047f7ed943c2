// The TVM measurement as the Salus TSM computes it (rivosinc/salus main
// 27b8d1d, attestation/src/{measurement,manager}.rs, src/vm.rs,
// src/vm_pages.rs; sbi-rs 10247f5 src/attestation.rs). The CoVE spec fixes
// only "SHA-384, the GPA is part of the measurement", so this byte format is
// Salus's, not the spec's: docs/riscv-cove.md says so to its readers.
//
// Eight SHA-384 registers, all starting at 48 zero bytes:
//   0 PlatformCode, 1 PlatformConfiguration  (never extended by Salus)
//   2 TvmPage       H(R || le64(gpa) || 4096-byte page) per measured page
//   3 TvmConfiguration  H(H(R || le64(pc)) || le64(a1)) at finalize
//   4..7 runtime registers (TCG PCR 17..20), extended by the guest
#pragma once

#include <array>
#include <cstdint>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"
#include "libcvm/riscv64/machine.hpp"

namespace cvm::cove {

using riscv64::kPageSize;  // the TSM measures and maps whole 4 KiB pages

// Salus's VM_CPUS_MAX (= MAX_CPUS, 128): TvmCpuCreate refuses vCPU id 128
// and above with BadVmCpuId, so a bigger TVM never reaches finalize.
inline constexpr unsigned kSalusMaxVcpus = 128;

// The runtime-extend rule on its own: a runtime register's new value from
// its old (SHA-384) value and the guest's 48-byte digest, zero-padded to 64
// bytes (sbi-rs MAX_HASH_SIZE), all of which is hashed.
Digest salus_runtime_extend(const Digest& old_value, ByteSpan digest48);

class SalusRegisters {
public:
    static constexpr unsigned kStaticCount = 4;
    static constexpr unsigned kRuntimeCount = 4;
    // The TCG PCR index Salus reports for runtime register i is 17 + i.
    static constexpr unsigned kFirstRuntimePcr = 17;

    SalusRegisters();

    // AddMeasuredPages for [gpa, gpa + bytes.size()) rounded up to whole
    // 4 KiB pages: the bytes past the end of `bytes` in the last page are
    // taken to be zero, which is what libcvm's launcher leaves there. `gpa`
    // must be page aligned; throws otherwise.
    void add_measured_pages(std::uint64_t gpa, ByteSpan bytes);
    // The same for a whole payload, in page-aligned chunks (for_each_chunk:
    // a file is read one chunk ahead on another thread, a mapping released
    // behind). The chain runs page by page, so chunks change nothing but the
    // resident footprint and the overlap of reading with hashing.
    void add_measured_pages(std::uint64_t gpa, const Payload& payload);
    // Finalize with the boot vCPU's entry pc and its a1 (the FDT address).
    // Locks the static registers; a second call throws.
    void finalize(std::uint64_t entry_pc, std::uint64_t entry_a1);
    // COVG extend_measurement: the guest's 48-byte digest, zero-padded to
    // 64 bytes (sbi-rs MAX_HASH_SIZE), all of which is hashed. Only after
    // finalize, on runtime register `index` (0..3, TCG PCR 17..20).
    void runtime_extend(unsigned index, ByteSpan digest48);

    const Digest& pcr(unsigned index) const;          // 0..3 static
    const Digest& runtime(unsigned index) const;      // 0..3 = TCG PCR 17..20
    bool finalized() const noexcept { return finalized_; }
    // DICE attestation TCI: H(PCR0 || PCR1 || PCR2 || PCR3).
    Digest attestation_tci() const;

private:
    std::array<Digest, kStaticCount> static_;
    std::array<Digest, kRuntimeCount> runtime_;
    bool finalized_ = false;
};

} // namespace cvm::cove
