#include "backends/arm-cca/layout.hpp"
#include "libcvm/arm64/libcvm_machine.hpp"

namespace cvm::cca {

// The same header checks as every direct arm64 boot in libcvm.
Arm64Image realm_kernel(const ImageSpec& kernel) { return arm64::boot_kernel(kernel); }

} // namespace cvm::cca
