// The riscv-cove backend's VM configuration: what kind of TVM the plan
// creates, which TSM ABI the host runs, and the host value the generated
// DTB declares for the AIA.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "backends/riscv-cove/cove_uapi.hpp"
#include "cvm/plan.hpp"
#include "libcvm/plan/config_codec.hpp"

namespace cvm::cove {

struct TvmConfig final : VmConfig {
    std::uint64_t vm_type = kVmTypeRiscvCove;  // KVM_CREATE_VM's type
    TsmAbi tsm_abi = TsmAbi::v0_5;
    // The COVH function the host calls for every measured page, recorded
    // so that a plan names the TSM call its measurement depends on.
    std::uint32_t add_measured_pages_fid = covh_function_ids(TsmAbi::v0_5).add_measured_pages;
    // riscv,num-ids of the IMSIC the generated DTB declares, which the
    // launcher programs into the AIA device (none with a user's DTB).
    std::optional<std::uint32_t> imsic_num_ids;

    static constexpr Choice<TsmAbi> kTsmAbis[] = {{TsmAbi::v0_5, "v0.5"}, {TsmAbi::v0_7, "v0.7"}};

    template <class Codec, class Self>
    static void describe(Codec& codec, Self& self) {
        codec.constant("arch", "riscv64");
        codec.number("vm-type", self.vm_type, Radix::hex);
        codec.choice("tsm-abi", self.tsm_abi, kTsmAbis);
        codec.number("covh-add-measured-pages-fid", self.add_measured_pages_fid);
        // The TSM whose measurement the prediction models.
        codec.constant("measurement-model", "salus");
        codec.optional_number("imsic-num-ids", self.imsic_num_ids);
    }
    std::vector<ConfigField> fields() const override { return encode_config(*this); }
    // Refuses a configuration the planner could not have written.
    void check() const;
};

std::shared_ptr<const TvmConfig> decode_tvm_config(std::span<const ConfigField> fields);

} // namespace cvm::cove
