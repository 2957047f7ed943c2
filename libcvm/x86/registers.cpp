#include "libcvm/x86/registers.hpp"

#include <string>

namespace cvm::x86 {

Segment segment_from_descriptor(std::uint64_t descriptor, std::uint16_t selector) {
    Segment s;
    s.selector = selector;
    s.base = ((descriptor >> 16) & 0xffffff) | ((descriptor >> 32) & 0xff000000);
    const bool granular = (descriptor >> 55) & 1;
    const auto limit = static_cast<std::uint32_t>((descriptor & 0xffff) | ((descriptor >> 32) & 0xf0000));
    s.limit = granular ? (limit << 12) | 0xfff : limit;
    // Descriptor bits 40-47 (type, S, DPL, P) and 52-55 (AVL, L, D/B, G)
    // are the attrib's bits 0-7 and 8-11.
    s.attrib = static_cast<std::uint16_t>(((descriptor >> 40) & 0xff) | (((descriptor >> 52) & 0xf) << 8));
    return s;
}

void add_segment(std::vector<op::Register>& registers, std::string_view name, const Segment& segment) {
    const std::string n(name);
    registers.push_back({n + ".selector", segment.selector});
    registers.push_back({n + ".attrib", segment.attrib});
    registers.push_back({n + ".limit", segment.limit});
    registers.push_back({n + ".base", segment.base});
}

} // namespace cvm::x86
