// The text codecs of outside values: base64 and hex (measurements given on
// the command line, reference values), and each backend's configuration
// codec (create-vm fields read back from an operation log). Properties: no
// crash or sanitizer report, a refusal is a cvm::Error, and what is
// accepted reads back to the same text (one spelling per value).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "cvm/backend.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch (data[0] % 3) {
        case 0:
            if (cvm::to_base64(cvm::from_base64(text, "fuzz")) != text) std::abort();
            break;
        case 1: {
            auto bytes = cvm::from_hex(text, "fuzz");
            if (cvm::from_hex(cvm::to_hex(bytes), "fuzz") != bytes) std::abort();
            break;
        }
        default: {
            // Lines "name=value"; the first line names the backend.
            std::vector<std::string> lines;
            std::size_t start = 0;
            for (std::size_t i = 0; i <= text.size(); ++i)
                if (i == text.size() || text[i] == '\n') {
                    lines.push_back(text.substr(start, i - start));
                    start = i + 1;
                }
            const auto backends = cvm::all_backends();
            const cvm::Backend* backend = nullptr;
            for (const auto* b : backends)
                if (b->name() == lines.front()) backend = b;
            if (!backend) break;
            std::vector<cvm::ConfigField> fields;
            for (std::size_t i = 1; i < lines.size(); ++i) {
                auto eq = lines[i].find('=');
                if (eq == std::string::npos) break;
                fields.push_back({lines[i].substr(0, eq), lines[i].substr(eq + 1)});
            }
            if (backend->decode_config(fields)->fields() != fields) std::abort();
        }
        }
    } catch (const cvm::Error&) {
    }
    return 0;
}
