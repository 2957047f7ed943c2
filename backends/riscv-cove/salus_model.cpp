#include "backends/riscv-cove/salus_model.hpp"

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/payload_chunks.hpp"

namespace cvm::cove {
namespace {

constexpr HashAlgorithm kHash = HashAlgorithm::sha384;
constexpr unsigned kTvmPage = 2;
constexpr unsigned kTvmConfiguration = 3;
// sbi-rs attestation.rs: the guest's digest travels in a 64-byte buffer.
constexpr std::size_t kMaxHashSize = 64;

const std::array<std::uint8_t, kPageSize> kZeroPage{};

} // namespace

SalusRegisters::SalusRegisters() {
    static_.fill(Digest::zero(kHash));
    runtime_.fill(Digest::zero(kHash));
}

void SalusRegisters::add_measured_pages(std::uint64_t gpa, ByteSpan bytes) {
    if (finalized_) throw Error("Salus model: pages measured after finalize (the TSM refuses them)");
    if (gpa % kPageSize != 0)
        throw Error(fmt::format("Salus model: measured region at {:#x} is not 4 KiB aligned", gpa));
    if (bytes.empty()) throw Error(fmt::format("Salus model: empty measured region at {:#x}", gpa));
    Hasher h(kHash);
    for (std::size_t offset = 0; offset < bytes.size(); offset += kPageSize) {
        std::size_t n = std::min(kPageSize, bytes.size() - offset);
        h.update(static_[kTvmPage].bytes()).update_le64(gpa + offset).update(bytes.subspan(offset, n));
        if (n < kPageSize) h.update(ByteSpan(kZeroPage.data(), kPageSize - n));
        static_[kTvmPage] = h.finish();
    }
}

void SalusRegisters::add_measured_pages(std::uint64_t gpa, const Payload& payload) {
    constexpr std::size_t kChunk = 4u << 20;  // a multiple of kPageSize
    if (payload.size() == 0) add_measured_pages(gpa, ByteSpan());  // the empty-region error
    for_each_chunk(payload, kChunk, [&](std::size_t at, ByteSpan bytes) { add_measured_pages(gpa + at, bytes); });
}

void SalusRegisters::finalize(std::uint64_t entry_pc, std::uint64_t entry_a1) {
    if (finalized_) throw Error("Salus model: the TVM is finalized twice");
    Hasher h(kHash);
    static_[kTvmConfiguration] = h.update(static_[kTvmConfiguration].bytes()).update_le64(entry_pc).finish();
    static_[kTvmConfiguration] = h.update(static_[kTvmConfiguration].bytes()).update_le64(entry_a1).finish();
    finalized_ = true;
}

void SalusRegisters::runtime_extend(unsigned index, ByteSpan digest48) {
    if (!finalized_) throw Error("Salus model: runtime registers are extended only after finalize");
    if (index >= kRuntimeCount)
        throw Error(fmt::format("Salus model: runtime register {} does not exist (0..{})", index, kRuntimeCount - 1));
    runtime_[index] = salus_runtime_extend(runtime_[index], digest48);
}

Digest salus_runtime_extend(const Digest& old_value, ByteSpan digest48) {
    if (old_value.algorithm() != kHash || old_value.size() != digest_size(kHash))
        throw Error(fmt::format("Salus model: runtime registers are {}-byte SHA-384 values, not {} bytes",
                                digest_size(kHash), old_value.size()));
    if (digest48.size() != digest_size(kHash))
        throw Error(fmt::format("Salus model: a runtime extend takes a {}-byte SHA-384 digest, not {} bytes",
                                digest_size(kHash), digest48.size()));
    std::array<std::uint8_t, kMaxHashSize> padded{};
    std::copy(digest48.begin(), digest48.end(), padded.begin());
    Hasher h(kHash);
    return h.update(old_value.bytes()).update(ByteSpan(padded)).finish();
}

const Digest& SalusRegisters::pcr(unsigned index) const {
    if (index >= kStaticCount) throw Error(fmt::format("Salus model: static register {} does not exist", index));
    return static_[index];
}

const Digest& SalusRegisters::runtime(unsigned index) const {
    if (index >= kRuntimeCount) throw Error(fmt::format("Salus model: runtime register {} does not exist", index));
    return runtime_[index];
}

Digest SalusRegisters::attestation_tci() const {
    Hasher h(kHash);
    for (const auto& r : static_) h.update(r.bytes());
    return h.finish();
}

} // namespace cvm::cove
