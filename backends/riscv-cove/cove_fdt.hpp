// The guest's device tree: the one kvmtool's CoVE branch writes (riscv/fdt.c,
// riscv/aia.c, riscv/pci.c), or a user's DTB with /chosen filled in. Either
// way the result is exactly the 64 KiB region that is measured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"

namespace cvm::cove {

struct InitrdRange {
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // exclusive, as linux,initrd-end is
};

// Everything the generated tree depends on. The last four are facts of the
// host that kvmtool reads from KVM; the planner takes them from options.
struct FdtInputs {
    std::uint64_t ram_base = 0;
    std::uint64_t ram_size = 0;
    unsigned vcpus = 1;
    std::string cmdline;  // bootargs, byte for byte
    std::optional<InitrdRange> initrd;
    std::string isa;  // riscv,isa of every hart, as kvmtool composes it
    std::optional<std::uint32_t> cbom_block_size;  // written iff the ISA has Zicbom
    std::uint32_t timebase_frequency = 0;
    std::uint32_t imsic_num_ids = 0;  // the AIA device's KVM_DEV_RISCV_AIA_CONFIG_IDS
};

// kvmtool's tree, built with the same libfdt calls in the same order, then
// moved into the zeroed 64 KiB region with fdt_open_into and fdt_pack as
// kvmtool does (which leaves the last 8 bytes of the strings block behind
// after totalsize: they are measured).
std::vector<std::uint8_t> build_fdt(const FdtInputs& in);

// Checks a user DTB (`name` for errors) and returns it as a 64 KiB region
// with /chosen's bootargs and initrd range set. Throws a located cvm::Error
// for anything libfdt does not accept or that does not fit in 64 KiB.
std::vector<std::uint8_t> adapt_user_fdt(ByteSpan dtb, const std::string& name, const std::string& cmdline,
                                         const std::optional<InitrdRange>& initrd);

} // namespace cvm::cove
