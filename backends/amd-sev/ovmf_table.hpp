// What an OVMF image tells the VMM about an SEV launch: the GUIDed footer
// table at the end of the image (SEV-ES AP reset block, kernel-hashes area,
// secret area, SEV metadata offset) and the "ASEV" metadata sections SNP
// populates. Layouts: docs/amd-sev.md, "OVMF footer table" and "SEV metadata".
//
// The parser reads outside bytes: every malformed table is a cvm::Error
// naming the file, the byte offset and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"

namespace cvm::sev {

// The image is mapped so that its last byte is just below 4 GiB.
constexpr std::uint64_t kFourGiB = 0x1'0000'0000ull;

enum class SectionType : std::uint32_t {
    sec_mem = 1,        // SNP_SEC_MEM: pre-validated zero pages the firmware uses
    secrets = 2,        // SNP_SECRETS: the PSP's secrets page
    cpuid = 3,          // CPUID: the CPUID table the PSP validates
    svsm_caa = 4,       // SVSM calling-area page
    kernel_hashes = 0x10,  // SNP_KERNEL_HASHES: the page holding the kernel-hashes table
};
std::string_view to_string(SectionType type);

struct MetadataSection {
    std::uint32_t gpa = 0;
    std::uint32_t size = 0;
    SectionType type = SectionType::sec_mem;
};

struct GpaRange {
    std::uint32_t base = 0;
    std::uint32_t size = 0;
};

struct OvmfInfo {
    std::string file;
    std::uint64_t size = 0;
    std::uint64_t gpa = 0;                          // kFourGiB - size
    bool has_table = false;                         // the footer GUID is present
    std::optional<std::uint32_t> reset_address;     // SEV-ES AP reset vector
    std::optional<GpaRange> hash_area;              // kernel-hashes table area (base 0: unsupported)
    std::optional<GpaRange> secret_area;            // default LAUNCH_SECRET target
    std::optional<std::vector<MetadataSection>> metadata;  // absent: no "ASEV" metadata
};

// Parses `image` (named `file` in errors). Requires a non-empty image whose
// size is a multiple of 4 KiB and at most 16 MiB (the flash window below 4 GiB).
OvmfInfo parse_ovmf(ByteSpan image, const std::string& file);
// The same from a payload, reading only the table at its end and the
// metadata: a payload that streams from its file is not copied.
OvmfInfo parse_ovmf(const Payload& image, const std::string& file);

} // namespace cvm::sev
