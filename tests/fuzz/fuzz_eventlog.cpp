// libFuzzer target for the TCG event log reader, and for what reads the
// events further: replay, the text and JSON forms (which decode plain and
// Arm CCA event data), and verification with every technology's replay
// rules (the CCA event decoders, the operation decoder and the plan rebuilt
// from it) against an empty images list. The first input byte picks padded
// or strict reading.
#include <cstddef>
#include <cstdint>

#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    cvm::eventlog::ReadOptions options;
    options.padded = (data[0] & 1) != 0;
    cvm::ByteSpan bytes(data + 1, size - 1);
    try {
        auto log = cvm::eventlog::read_log(bytes, "fuzz", options);
        // Whatever is accepted must lie inside the input.
        if (log.used_size > bytes.size()) __builtin_trap();
        for (const auto& e : log.events)
            if (e.data_offset + e.data.size() > log.used_size) __builtin_trap();
        cvm::eventlog::replay(log, "fuzz");
        cvm::eventlog::to_text(log, "fuzz");
        cvm::eventlog::to_json(log, "fuzz");
        static const std::uint8_t zeros[64] = {};
        try {
            cvm::eventlog::verify(log, "fuzz", cvm::eventlog::ImageList(), cvm::ByteSpan(zeros, 32));
        } catch (const cvm::Error&) {
            // A log without replay rules, or a bank libcvm cannot compute.
        }
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
