// The event data of Arm CCA launch logs, in the layout of the QEMU "arm: Run
// Arm CCA VMs with KVM" v3 RFC (patches 23-26, 2024-11-25) as
// cca-realm-measurements reads it (docs/event-log.md, "Mapping: Arm CCA").
// Every decoder reads outside bytes: each throws a cvm::Error naming the
// log, the offset and what was expected.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"

namespace cvm::cca::log {

// TCG_PCClientTaggedEvent ids of the RFC's realm events.
inline constexpr std::uint32_t kTagRealmCreate = 1;
inline constexpr std::uint32_t kTagInitRipas = 2;
inline constexpr std::uint32_t kTagRecCreate = 3;

// EV_NO_ACTION "VM VERSION": the C struct QEMU writes, unpacked: signature[16],
// name[32], version[40], ram_size at 88, num_cpus at 96, 4 bytes of padding,
// flags at 104; 112 bytes.
inline constexpr std::size_t kVmVersionSize = 112;
struct VmVersion {
    std::string name;     // the VMM: "QEMU", "kvmtool", "libcvm"
    std::string version;
    std::uint64_t ram_size = 0;
    std::uint32_t num_cpus = 0;
    std::uint64_t flags = 0;
};
std::vector<std::uint8_t> encode_vm_version(const VmVersion& v);
// True if `data` starts with the "VM VERSION" signature.
bool is_vm_version(ByteSpan data);
VmVersion decode_vm_version(ByteSpan data, const std::string& name, std::uint64_t offset);

// {u32 id; u32 size; payload}; the size must account for every byte.
struct Tagged {
    std::uint32_t id = 0;
    ByteSpan payload;
    std::uint64_t payload_offset = 0;
};
std::vector<std::uint8_t> encode_tagged(std::uint32_t id, ByteSpan payload);
Tagged split_tagged(ByteSpan data, const std::string& name, std::uint64_t offset);

// REALM_CREATE: {u64 flags; u8 s2sz, sve_vl, num_bps, num_wps, pmu_num_ctrs,
// hash_algo} and 2 bytes of struct padding (16 bytes), the values in RMM
// encoding: s2sz the IPA width, sve_vl VL/128 - 1, num_bps/num_wps the count
// - 1, hash_algo RmiHashAlgorithm (0 SHA-256, 1 SHA-512).
inline constexpr std::size_t kRealmCreateSize = 16;
struct RealmCreate {
    std::uint64_t flags = 0;
    std::uint8_t s2sz = 0, sve_vl = 0, num_bps = 0, num_wps = 0, pmu_num_ctrs = 0, hash_algo = 0;
};
std::vector<std::uint8_t> encode_realm_create(const RealmCreate& r);
RealmCreate decode_realm_create(ByteSpan payload, const std::string& name, std::uint64_t offset);

// INIT_RIPAS: {u64 base; u64 size}.
inline constexpr std::size_t kInitRipasSize = 16;
struct InitRipas {
    std::uint64_t base = 0, size = 0;
};
std::vector<std::uint8_t> encode_init_ripas(const InitRipas& r);
InitRipas decode_init_ripas(ByteSpan payload, const std::string& name, std::uint64_t offset);

// REC_CREATE: {u64 flags (bit 0 RUNNABLE); u64 pc; u64 gprs[8]}.
inline constexpr std::size_t kRecCreateSize = 80;
inline constexpr std::uint64_t kRecRunnable = 1;
struct RecCreate {
    std::uint64_t flags = 0, pc = 0;
    std::array<std::uint64_t, 8> gprs{};
};
std::vector<std::uint8_t> encode_rec_create(const RecCreate& r);
RecCreate decode_rec_create(ByteSpan payload, const std::string& name, std::uint64_t offset);

// UEFI_PLATFORM_FIRMWARE_BLOB2: {u8 size; description (no NUL); u64 base;
// u64 length}, the data of the image events (EV_POST_CODE2, and
// EV_EFI_PLATFORM_FIRMWARE_BLOB2 for firmware).
struct Blob2 {
    std::string description;
    std::uint64_t base = 0, length = 0;
};
std::vector<std::uint8_t> encode_blob2(const Blob2& b);
Blob2 decode_blob2(ByteSpan data, const std::string& name, std::uint64_t offset);

} // namespace cvm::cca::log
