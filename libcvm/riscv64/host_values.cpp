#include "libcvm/riscv64/host_values.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/spec.hpp"

namespace cvm::riscv64 {

bool Isa::has(std::string_view extension) const {
    return std::find(extensions.begin(), extensions.end(), extension) != extensions.end();
}

Isa parse_isa(const std::string& text) {
    auto refuse = [&](const std::string& why) {
        return Error(fmt::format("isa '{}': {}; expected \"rv64\", single letters in the order '{}', then '_ext' for "
                                 "any of ssaia, svpbmt, sstc, svinval, zihintpause, zicbom in that order (e.g. "
                                 "rv64imafdc_sstc)", text, why, kIsaLetterOrder),
                     0, "option isa");
    };
    if (text.rfind("rv64", 0) != 0) throw refuse("expected an RV64 string starting with 'rv64'");
    Isa isa{text, {}, {}};
    std::size_t pos = 4;
    std::size_t letter = 0;
    while (pos < text.size() && text[pos] != '_') {
        std::size_t at = kIsaLetterOrder.find(text[pos], letter);
        if (at == std::string_view::npos)
            throw refuse(fmt::format("'{}' is out of order, repeated or not an extension letter", text[pos]));
        isa.letters += text[pos];
        letter = at + 1;
        ++pos;
    }
    std::size_t next = 0;
    while (pos < text.size()) {
        std::size_t stop = text.find('_', pos + 1);
        std::string_view name =
            std::string_view(text).substr(pos + 1, stop == std::string::npos ? std::string::npos : stop - pos - 1);
        std::size_t i = next;
        while (i < std::size(kIsaExtensionOrder) && kIsaExtensionOrder[i] != name) ++i;
        if (i == std::size(kIsaExtensionOrder))
            throw refuse(fmt::format("'{}' is out of order, repeated or not an extension kvmtool reports", name));
        isa.extensions.emplace_back(name);
        next = i + 1;
        pos = stop == std::string::npos ? text.size() : stop;
    }
    return isa;
}

std::uint32_t parse_timebase_frequency(const std::string& text) {
    return static_cast<std::uint32_t>(parse_unsigned(text, "option timebase-frequency", 1, 0xffffffff));
}

} // namespace cvm::riscv64
