// libFuzzer target for the kernel image header parsers. Which parser runs is
// chosen at build time (CVM_FUZZ_PARSER), so each gets its own corpus.
#include <cstddef>
#include <cstdint>

#include "cvm/error.hpp"
#include "cvm/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    cvm::ByteSpan bytes(data, size);
    try {
#if CVM_FUZZ_PARSER == 1
        auto image = cvm::parse_bzimage(bytes, "fuzz");
        // Whatever is accepted must describe bytes inside the input.
        if (image.kernel.data() < data || image.kernel.data() + image.kernel.size() > data + size) __builtin_trap();
#elif CVM_FUZZ_PARSER == 2
        cvm::parse_arm64_image(bytes, "fuzz");
#else
        cvm::parse_riscv_image(bytes, "fuzz");
#endif
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
