// The device tree of libcvm's riscv64 machine: the one kvmtool writes
// (riscv/fdt.c, riscv/aia.c, riscv/pci.c, hw/serial.c), or a user's DTB with
// /chosen filled in. Either way the result is exactly the 64 KiB region that
// is loaded (and, in a CoVE TVM, measured).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/plan.hpp"
#include "libcvm/riscv64/machine.hpp"

namespace cvm::riscv64 {

// The machines' devices as records (launchers create exactly these):
// a CoVE TVM as kvmtool builds it has the AIA IMSIC (no APLIC: no wired
// interrupt sources) and the PCI host bridge whose MSIs go to it; the plain
// machine a polled 16550 (no interrupt: there is no interrupt controller
// besides each hart's local one; timer, IPIs and power-off are SBI calls
// KVM serves).
std::vector<op::AddDevice> tvm_devices(unsigned vcpus);
std::vector<op::AddDevice> plain_devices();

// Everything the generated tree depends on. isa, cbom_block_size and
// timebase_frequency are facts of the host that kvmtool reads from KVM;
// planners take them from options and launchers check them.
struct FdtInputs {
    std::vector<op::AddDevice> devices;  // the tree's devices, each described from its record
    std::uint64_t ram_base = 0;
    std::uint64_t ram_size = 0;
    unsigned vcpus = 1;
    std::string cmdline;  // bootargs, byte for byte
    std::optional<InitrdRange> initrd;
    std::string isa;  // riscv,isa of every hart, as kvmtool composes it
    std::optional<std::uint32_t> cbom_block_size;  // written iff the ISA has Zicbom
    std::uint32_t timebase_frequency = 0;
    std::uint32_t imsic_num_ids = 0;  // with an IMSIC: the AIA device's KVM_DEV_RISCV_AIA_CONFIG_IDS
};

// kvmtool's tree, built with the same libfdt calls in the same order, then
// moved into the zeroed 64 KiB region with fdt_open_into and fdt_pack as
// kvmtool does (which leaves the last 8 bytes of the strings block behind
// after totalsize: a TVM measures them).
std::vector<std::uint8_t> build_fdt(const FdtInputs& in);

// Checks a user DTB (`name` for errors) and returns it as a 64 KiB region
// with /chosen's bootargs and initrd range set. Throws a located cvm::Error
// for anything libfdt does not accept or that does not fit in 64 KiB.
std::vector<std::uint8_t> adapt_user_fdt(ByteSpan dtb, const std::string& name, const std::string& cmdline,
                                         const std::optional<InitrdRange>& initrd);

} // namespace cvm::riscv64
