#include "backends/plain/plain_config.hpp"

#include "libcvm/plan/config_codec.hpp"

namespace cvm::plain {

std::vector<ConfigField> X86Config::fields() const { return encode_config(*this); }
std::vector<ConfigField> Arm64Config::fields() const { return encode_config(*this); }
std::vector<ConfigField> Riscv64Config::fields() const { return encode_config(*this); }

std::shared_ptr<const VmConfig> decode_config(std::span<const ConfigField> fields) {
    const std::string what = "the plain plan's create-vm";
    const std::string arch = fields.empty() || fields.front().name != "arch" ? "" : fields.front().value;
    if (arch == "x86_64") return cvm::decode_config<X86Config>(fields, what);
    if (arch == "arm64") {
        auto config = cvm::decode_config<Arm64Config>(fields, what);
        // KVM_VM_TYPE_ARM_IPA_SIZE: 32 bits up to the architecture's 52.
        if (config->ipa_bits < 32 || config->ipa_bits > 52)
            throw Error(fmt::format("{}: ipa_bits {} is outside 32 to 52", what, config->ipa_bits));
        return config;
    }
    if (arch == "riscv64") {
        auto config = cvm::decode_config<Riscv64Config>(fields, what);
        if (config->timebase_frequency == 0) throw Error(what + ": timebase-frequency 0");
        return config;
    }
    throw Error(fmt::format("{}: the first field is not arch=x86_64, arm64 or riscv64", what));
}

} // namespace cvm::plain
