// libFuzzer target for the outside bytes the riscv-cove backend reads beyond
// the core's image parsers: a user DTB (checked with libfdt, then given a
// /chosen and packed into the 64 KiB measured region) and the RISC-V Image
// checks of its layout. The first input byte picks which.
#include <cstddef>
#include <cstdint>

#include "libcvm/riscv64/machine_fdt.hpp"
#include "libcvm/riscv64/kernel_image.hpp"
#include "cvm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    cvm::ByteSpan bytes(data + 1, size - 1);
    try {
        if (data[0] & 1) {
            cvm::riscv64::check_riscv_kernel(bytes, "fuzz");
        } else {
            auto region = cvm::riscv64::adapt_user_fdt(bytes, "fuzz", "console=ttyS0",
                                                    cvm::riscv64::InitrdRange{0x8fff0000, 0x8fff1000});
            // Whatever is accepted is exactly the measured region.
            if (region.size() != 0x10000) __builtin_trap();
        }
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
