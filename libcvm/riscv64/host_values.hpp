// Facts of the host that libcvm's riscv64 machine writes into its DTB, as
// kvmtool reads them from KVM: the harts' riscv,isa and the timebase
// frequency. Plans take them from options (a verifier never sees the host);
// launchers compare them with what the host's KVM reports.
//
// riscv,isa is in the form kvmtool composes from KVM's ISA registers
// (riscv/fdt.c generate_cpu_nodes): "rv64", the single-letter extensions in
// kvmtool's fixed order, then "_name" for each multi-letter extension of its
// table, in table order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cvm::riscv64 {

// kvmtool's orders: the letters it tests, the multi-letter extensions of
// its isa_info_arr that a Linux 6.x KVM reports.
inline constexpr std::string_view kIsaLetterOrder = "iemafdqclbjtpvnsuhkorwxyzg";
inline constexpr std::string_view kIsaExtensionOrder[] = {"ssaia", "svpbmt", "sstc", "svinval", "zihintpause", "zicbom"};

struct Isa {
    std::string text;                     // the string as written into the DTB
    std::string letters;                  // "imafdc"
    std::vector<std::string> extensions;  // {"sstc", "zicbom"}
    bool has(std::string_view extension) const;
};

// Parses `text`; throws a cvm::Error naming "option isa" with the grammar
// and an example for anything else.
Isa parse_isa(const std::string& text);

// A frequency in Hz, 1 to 4294967295 (the DTB cell), in the number codec
// of cvm/spec.hpp; throws a cvm::Error naming "option timebase-frequency".
std::uint32_t parse_timebase_frequency(const std::string& text);

} // namespace cvm::riscv64
