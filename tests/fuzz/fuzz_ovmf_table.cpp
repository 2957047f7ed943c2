// libFuzzer target: the OVMF footer table and SEV metadata parser
// (backends/amd-sev/ovmf_table.cpp). The input becomes the end of a
// firmware image padded at the front to whole 4 KiB pages, because that is
// where the parser looks; any outcome but a result or a cvm::Error is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "backends/amd-sev/ovmf_table.hpp"
#include "cvm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > (1u << 20)) return 0;
    std::size_t image_size = (size + 4095) / 4096 * 4096;
    std::vector<std::uint8_t> image(image_size, 0);
    std::copy(data, data + size, image.end() - static_cast<std::ptrdiff_t>(size));
    try {
        auto info = cvm::sev::parse_ovmf(image, "fuzz-input");
        if (info.metadata)
            for (const auto& s : *info.metadata)
                if (std::uint64_t{s.gpa} + s.size > info.gpa) __builtin_trap();  // the parser promised this
    } catch (const cvm::Error&) {
    }
    return 0;
}
