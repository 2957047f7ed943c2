#include "backends/riscv-cove/cove_config.hpp"

namespace cvm::cove {

void TvmConfig::check() const {
    if (vm_type != kVmTypeRiscvCove)
        throw Error(fmt::format("riscv-cove plan: vm-type {:#x} is not KVM_VM_TYPE_RISCV_COVE ({:#x})", vm_type,
                                kVmTypeRiscvCove));
    if (add_measured_pages_fid != covh_function_ids(tsm_abi).add_measured_pages)
        throw Error(fmt::format("riscv-cove plan: TSM ABI {} numbers AddMeasuredPages {}, not {}", to_string(tsm_abi),
                                covh_function_ids(tsm_abi).add_measured_pages, add_measured_pages_fid));
    // Linux's KVM AIA accepts 63 to 2047 ids with the low six bits set.
    if (imsic_num_ids && (*imsic_num_ids < 63 || *imsic_num_ids > 2047 || (*imsic_num_ids + 1) % 64 != 0))
        throw Error(fmt::format("riscv-cove plan: imsic-num-ids {} is not 64k - 1 within 63 to 2047", *imsic_num_ids));
}

std::shared_ptr<const TvmConfig> decode_tvm_config(std::span<const ConfigField> fields) {
    auto config = decode_config<TvmConfig>(fields, "the riscv-cove plan's create-vm");
    config->check();
    return config;
}

} // namespace cvm::cove
