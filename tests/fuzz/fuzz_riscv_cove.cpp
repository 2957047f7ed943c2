// libFuzzer target for the outside bytes the riscv-cove backend reads beyond
// the core's image parsers: a user DTB (checked with libfdt, then given a
// /chosen and packed into the 64 KiB measured region) and the RISC-V Image
// checks of its layout. The first input byte picks which.
#include <cstddef>
#include <cstdint>

#include "backends/riscv-cove/cove_fdt.hpp"
#include "backends/riscv-cove/riscv_kernel.hpp"
#include "cvm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    cvm::ByteSpan bytes(data + 1, size - 1);
    try {
        if (data[0] & 1) {
            cvm::cove::check_riscv_kernel(bytes, "fuzz");
        } else {
            auto region = cvm::cove::adapt_user_fdt(bytes, "fuzz", "console=ttyS0",
                                                    cvm::cove::InitrdRange{0x8fff0000, 0x8fff1000});
            // Whatever is accepted is exactly the measured region.
            if (region.size() != 0x10000) __builtin_trap();
        }
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
