// Names and identifiers of TCG event types and digest algorithms.
#include <fmt/format.h>

#include "cvm/eventlog.hpp"

namespace cvm::eventlog {

std::string event_type_name(std::uint32_t type) {
    static const char* const pc_client[] = {
        "EV_PREBOOT_CERT", "EV_POST_CODE", "EV_UNUSED", "EV_NO_ACTION", "EV_SEPARATOR", "EV_ACTION",
        "EV_EVENT_TAG", "EV_S_CRTM_CONTENTS", "EV_S_CRTM_VERSION", "EV_CPU_MICROCODE",
        "EV_PLATFORM_CONFIG_FLAGS", "EV_TABLE_OF_DEVICES", "EV_COMPACT_HASH", "EV_IPL",
        "EV_IPL_PARTITION_DATA", "EV_NONHOST_CODE", "EV_NONHOST_CONFIG", "EV_NONHOST_INFO",
        "EV_OMIT_BOOT_DEVICE_EVENTS", "EV_POST_CODE2",
    };
    static const char* const efi[] = {
        "EV_EFI_VARIABLE_DRIVER_CONFIG", "EV_EFI_VARIABLE_BOOT", "EV_EFI_BOOT_SERVICES_APPLICATION",
        "EV_EFI_BOOT_SERVICES_DRIVER", "EV_EFI_RUNTIME_SERVICES_DRIVER", "EV_EFI_GPT_EVENT",
        "EV_EFI_ACTION", "EV_EFI_PLATFORM_FIRMWARE_BLOB", "EV_EFI_HANDOFF_TABLES",
        "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
    };
    if (type < std::size(pc_client)) return pc_client[type];
    if (type > EV_EFI_EVENT_BASE && type - EV_EFI_EVENT_BASE <= std::size(efi)) return efi[type - EV_EFI_EVENT_BASE - 1];
    return fmt::format("{:#010x}", type);
}

std::string algorithm_name(std::uint16_t alg) {
    switch (alg) {
    case TPM_ALG_SHA1: return "sha1";
    case TPM_ALG_SHA256: return "sha256";
    case TPM_ALG_SHA384: return "sha384";
    case TPM_ALG_SHA512: return "sha512";
    case TPM_ALG_SM3_256: return "sm3_256";
    default: return fmt::format("alg {:#06x}", alg);
    }
}

std::uint16_t tpm_alg(HashAlgorithm algorithm) {
    switch (algorithm) {
    case HashAlgorithm::sha256: return TPM_ALG_SHA256;
    case HashAlgorithm::sha384: return TPM_ALG_SHA384;
    case HashAlgorithm::sha512: return TPM_ALG_SHA512;
    }
    return 0;
}

std::optional<HashAlgorithm> hash_algorithm(std::uint16_t alg) {
    switch (alg) {
    case TPM_ALG_SHA256: return HashAlgorithm::sha256;
    case TPM_ALG_SHA384: return HashAlgorithm::sha384;
    case TPM_ALG_SHA512: return HashAlgorithm::sha512;
    default: return std::nullopt;
    }
}

std::string vendor_info_for(std::string_view technology) { return fmt::format("libcvm:{}", technology); }

} // namespace cvm::eventlog
