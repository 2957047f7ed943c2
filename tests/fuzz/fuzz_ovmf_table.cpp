// libFuzzer target: the OVMF footer table and SEV metadata parser
// (backends/amd-sev/ovmf_table.cpp). The input becomes the end of a
// firmware image padded at the front to whole 4 KiB pages, because that is
// where the parser looks; any outcome but a result or a cvm::Error is a bug,
// and so is a difference between the in-memory and the payload overload.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/amd-sev/ovmf_table.hpp"
#include "cvm/error.hpp"

namespace {

// Everything parse_ovmf reports, to compare the two ways in.
std::string summary(const cvm::sev::OvmfInfo& info) {
    std::string out = std::to_string(info.size) + " " + std::to_string(info.has_table);
    out += " r" + (info.reset_address ? std::to_string(*info.reset_address) : std::string("-"));
    for (const auto& area : {info.hash_area, info.secret_area})
        out += area ? " " + std::to_string(area->base) + "+" + std::to_string(area->size) : std::string(" -");
    if (info.metadata)
        for (const auto& s : *info.metadata)
            out += " m" + std::to_string(s.gpa) + "+" + std::to_string(s.size) + ":" + std::to_string(static_cast<unsigned>(s.type));
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > (1u << 20)) return 0;
    std::size_t image_size = (size + 4095) / 4096 * 4096;
    std::vector<std::uint8_t> image(image_size, 0);
    std::copy(data, data + size, image.end() - static_cast<std::ptrdiff_t>(size));
    // The same image in memory and as a payload, which the parser reads
    // through a tail buffer and reads before it: both must agree.
    std::string from_span = "error", from_payload = "error";
    try {
        auto info = cvm::sev::parse_ovmf(image, "fuzz-input");
        if (info.metadata)
            for (const auto& s : *info.metadata)
                if (std::uint64_t{s.gpa} + s.size > info.gpa) __builtin_trap();  // the parser promised this
        from_span = summary(info);
    } catch (const cvm::Error&) {
    }
    try {
        from_payload = summary(cvm::sev::parse_ovmf(cvm::Payload::from_bytes(image, "fuzz-input"), "fuzz-input"));
    } catch (const cvm::Error&) {
    }
    if (from_span != from_payload) __builtin_trap();
    return 0;
}
