// The settings of an SEV launch that both the launcher and the predictor need:
// the SEV backends' VM configuration, which the plan's create-vm carries so
// that both read the same values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cvm/plan.hpp"
#include "libcvm/plan/config_codec.hpp"

namespace cvm::sev {

enum class Mode { sev, es, snp };
// SNP guest policy bit 17: reserved, must be one (SNP firmware ABI, "Guest Policy").
inline constexpr std::uint64_t kSnpPolicyReservedMbo = 1ull << 17;
// SNP_LAUNCH_FINISH's HOST_DATA, which the attestation report carries.
inline constexpr std::size_t kSnpHostDataSize = 32;
// KVM_SEV_INIT / KVM_SEV_ES_INIT on a default VM, or KVM_SEV_INIT2 on a VM of
// an SEV type. It changes the VMSA: the legacy path leaves MXCSR and FCW zero.
enum class InitKind { legacy, init2 };
// Whose reset state the vCPUs start from (docs/amd-sev.md, "VMM-type differences").
enum class VmmModel { qemu, ec2, gce };

struct LaunchConfig final : VmConfig {
    Mode mode = Mode::sev;
    InitKind init = InitKind::init2;
    VmmModel vmm = VmmModel::qemu;
    std::uint64_t policy = 0;        // SEV policy (u32) or SNP guest policy (u64)
    std::uint64_t sev_features = 0;  // the VMSA's SEV_FEATURES (SNP: guest features, bit 0 set)
    // SEV/SEV-ES with a guest owner: the bytes LAUNCH_START is given (both
    // or neither; empty: the firmware makes the transport keys itself). The
    // plan carries the contents, not the files' names: the same contents
    // are the same plan wherever they were read from, and the launch uses
    // exactly what was planned.
    std::vector<std::uint8_t> owner_dh_cert;
    std::vector<std::uint8_t> owner_session;
    // SNP: the 32 bytes of HOST_DATA given at SNP_LAUNCH_FINISH (empty:
    // zeros). Not measured; the report carries them for the verifier.
    std::vector<std::uint8_t> host_data;
    // SNP: the guest owner's ID block (96 bytes) and ID authentication
    // structure (4096 bytes) for SNP_LAUNCH_FINISH (both or neither; empty:
    // id_block_en 0). Not measured; the firmware checks them against the
    // launch and the report carries their identities (cvm/snp_id_block.hpp).
    std::vector<std::uint8_t> id_block;
    std::vector<std::uint8_t> id_auth;
    // SEV/SEV-ES: the firmware's secret area (OVMF's SEV_SECRET_BLOCK), where
    // the owner round trip's LAUNCH_SECRET goes by default. Not measured.
    std::optional<std::uint64_t> secret_gpa, secret_size;

    static constexpr Choice<Mode> kModes[] = {{Mode::sev, "amd-sev"}, {Mode::es, "amd-sev-es"}, {Mode::snp, "amd-sev-snp"}};
    static constexpr Choice<InitKind> kInits[] = {{InitKind::legacy, "legacy"}, {InitKind::init2, "init2"}};
    static constexpr Choice<VmmModel> kVmms[] = {{VmmModel::qemu, "qemu"}, {VmmModel::ec2, "ec2"}, {VmmModel::gce, "gce"}};

    template <class Codec, class Self>
    static void describe(Codec& codec, Self& self) {
        codec.choice("mode", self.mode, kModes);
        codec.choice("init", self.init, kInits);
        codec.choice("vmm", self.vmm, kVmms);
        codec.number("policy", self.policy, Radix::hex);
        codec.number("sev-features", self.sev_features, Radix::hex);
        codec.optional_bytes("owner-dh-cert", self.owner_dh_cert);
        codec.optional_bytes("owner-session", self.owner_session);
        codec.optional_bytes("host-data", self.host_data);
        codec.optional_bytes("id-block", self.id_block);
        codec.optional_bytes("id-auth", self.id_auth);
        codec.optional_number("secret-gpa", self.secret_gpa, Radix::hex);
        codec.optional_number("secret-size", self.secret_size, Radix::hex);
    }
    std::vector<ConfigField> fields() const override { return encode_config(*this); }
    // Refuses a configuration no SEV launch of `technology` can have.
    void check(std::string_view technology) const;
    // SNP_LAUNCH_FINISH's AUTHOR_KEY_EN: the ID auth carries an author key
    // (AUTH_KEY_ALGO 1), which signed the ID key.
    bool author_key_en() const;
};

std::string_view technology_name(Mode mode);
std::string_view to_string(InitKind init);
std::string_view to_string(VmmModel vmm);

// The config of `plan`, whose first operation must create a VM of the
// plan's technology. Throws otherwise.
const LaunchConfig& config_of(const LaunchPlan& plan);
// The config `fields` describe, for a plan of `technology`.
std::shared_ptr<const LaunchConfig> decode_config(std::span<const ConfigField> fields, std::string_view technology);

// CPUID Fn0000_0001_EAX of a QEMU AMD EPYC CPU model, or nothing if unknown.
std::optional<std::uint32_t> vcpu_signature(std::string_view model);
// The model names vcpu_signature knows, for help texts.
std::string vcpu_model_names();

} // namespace cvm::sev
