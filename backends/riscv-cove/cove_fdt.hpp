// The guest's device tree: generated with libfdt from the plan's layout, or a
// user's DTB with /chosen filled in. Either way the result is exactly the
// 64 KiB region that is measured: the packed tree followed by zero bytes, so
// the measurement depends on nothing but the inputs.
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

struct FdtInputs {
    std::uint64_t ram_base = 0;
    std::uint64_t ram_size = 0;
    unsigned vcpus = 1;
    std::string isa;           // riscv,isa of every hart
    std::string mmu_type;      // "riscv,sv48", ...
    std::uint32_t timebase_frequency = 0;
    std::string cmdline;
    std::optional<InitrdRange> initrd;
};

// The generated tree: memory, cpus (each with its riscv,cpu-intc), the UART
// under a simple-bus, /chosen. 64 KiB.
std::vector<std::uint8_t> build_fdt(const FdtInputs& in);

// Checks a user DTB (`name` for errors) and returns it as a 64 KiB region
// with /chosen's bootargs and initrd range set. Throws a located cvm::Error
// for anything libfdt does not accept or that does not fit in 64 KiB.
std::vector<std::uint8_t> adapt_user_fdt(ByteSpan dtb, const std::string& name, const std::string& cmdline,
                                         const std::optional<InitrdRange>& initrd);

} // namespace cvm::cove
