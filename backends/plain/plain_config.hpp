// The plain backend's VM configurations, one per guest architecture. The
// type says which machine a plan is for; its fields enter the software
// measurement (docs/plain-measurement.md), so their text is fixed.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "cvm/plan.hpp"

namespace cvm::plain {

// The PC machine with KVM's in-kernel PIC, IOAPIC and PIT.
struct X86Config final : VmConfig {
    template <class Codec, class Self>
    static void describe(Codec& codec, Self&) {
        codec.constant("arch", "x86_64");
        codec.constant("irqchip", "in-kernel");
    }
    std::vector<ConfigField> fields() const override;
};

// libcvm's arm64 machine: a VM of `ipa_bits` IPA width with a GICv3.
struct Arm64Config final : VmConfig {
    std::uint32_t ipa_bits = 0;

    template <class Codec, class Self>
    static void describe(Codec& codec, Self& self) {
        codec.constant("arch", "arm64");
        codec.number("ipa_bits", self.ipa_bits);
        codec.constant("irqchip", "gicv3");
    }
    std::vector<ConfigField> fields() const override;
};

// libcvm's riscv64 machine, with the host values its DTB declares (the
// harts' riscv,isa and the timebase), which the launcher checks against KVM.
struct Riscv64Config final : VmConfig {
    std::string isa;
    std::uint32_t timebase_frequency = 0;

    template <class Codec, class Self>
    static void describe(Codec& codec, Self& self) {
        codec.constant("arch", "riscv64");
        codec.text("isa", self.isa);
        codec.number("timebase-frequency", self.timebase_frequency);
    }
    std::vector<ConfigField> fields() const override;
};

// The configuration `fields` describe, chosen by their first field, arch.
std::shared_ptr<const VmConfig> decode_config(std::span<const ConfigField> fields);

} // namespace cvm::plain
