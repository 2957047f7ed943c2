// The one table naming every backend compiled into libcvm.
#include "cvm/backend.hpp"

#include "backends/amd-sev/sev_backend.hpp"
#include "backends/arm-cca/arm_cca_backend.hpp"
#include "backends/plain/plain_backend.hpp"
#include "backends/riscv-cove/cove_backend.hpp"

namespace cvm {

std::span<const Backend* const> all_backends() {
    static const Backend* const table[] = {
        &plain_backend(),
        &riscv_cove_backend(),
        &amd_sev_backend(),
        &amd_sev_es_backend(),
        &amd_sev_snp_backend(),
        &arm_cca_backend(),
    };
    return table;
}

} // namespace cvm
