// TCG constants shared by the event log and the backends' event mappings:
// event types (TCG PC Client PFP, Linux enum tcpa_event_types, edk2
// UefiTcgPlatform.h) and TPM_ALG_ID values.
#pragma once

#include <cstdint>

namespace cvm::eventlog {

// Event types (TCG PC Client PFP; Linux enum tcpa_event_types; edk2).
inline constexpr std::uint32_t EV_PREBOOT_CERT = 0x0;
inline constexpr std::uint32_t EV_POST_CODE = 0x1;
inline constexpr std::uint32_t EV_NO_ACTION = 0x3;
inline constexpr std::uint32_t EV_SEPARATOR = 0x4;
inline constexpr std::uint32_t EV_EVENT_TAG = 0x6;
inline constexpr std::uint32_t EV_POST_CODE2 = 0x13;
inline constexpr std::uint32_t EV_EFI_EVENT_BASE = 0x80000000;
inline constexpr std::uint32_t EV_EFI_PLATFORM_FIRMWARE_BLOB = EV_EFI_EVENT_BASE + 0x8;
inline constexpr std::uint32_t EV_EFI_PLATFORM_FIRMWARE_BLOB2 = EV_EFI_EVENT_BASE + 0xA;

// TPM_ALG_ID values of the digest algorithms.
inline constexpr std::uint16_t TPM_ALG_SHA1 = 0x0004;
inline constexpr std::uint16_t TPM_ALG_SHA256 = 0x000B;
inline constexpr std::uint16_t TPM_ALG_SHA384 = 0x000C;
inline constexpr std::uint16_t TPM_ALG_SHA512 = 0x000D;
inline constexpr std::uint16_t TPM_ALG_SM3_256 = 0x0012;

} // namespace cvm::eventlog
