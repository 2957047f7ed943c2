// QEMU's firmware configuration device (docs/specs/fw_cfg.rst in QEMU;
// hw/nvram/fw_cfg.c): the guest selects an item and reads its bytes in
// order, through the data register or by DMA. The signature, the feature
// ID and the file directory are always there; a machine adds its items.
// Front-ends: the MMIO layout of Arm virt machines (data at 0, 8 bytes
// wide; a big-endian 16-bit selector at 8; no DMA) and the x86 I/O ports
// (selector 0x510, data 0x511, DMA address 0x514), with DMA.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"
#include "libcvm/devices/bus.hpp"

namespace cvm {

// The guest-physical bytes a DMA transfer reads or writes: a view of RAM
// that throws a cvm::Error where [gpa, gpa+size) is not one RAM range.
using GuestRamView = std::function<std::span<std::uint8_t>(std::uint64_t gpa, std::uint64_t size)>;

class FwCfg {
public:
    static constexpr std::uint16_t kSignature = 0x0000;
    static constexpr std::uint16_t kId = 0x0001;
    static constexpr std::uint16_t kNbCpus = 0x0005;
    static constexpr std::uint16_t kKernelSize = 0x0008;
    static constexpr std::uint16_t kInitrdSize = 0x000b;
    static constexpr std::uint16_t kKernelData = 0x0011;
    static constexpr std::uint16_t kInitrdData = 0x0012;
    static constexpr std::uint16_t kCmdlineSize = 0x0014;
    static constexpr std::uint16_t kCmdlineData = 0x0015;
    static constexpr std::uint16_t kSetupSize = 0x0017;
    static constexpr std::uint16_t kSetupData = 0x0018;
    static constexpr std::uint16_t kFileDir = 0x0019;
    static constexpr std::uint16_t kFirstFile = 0x0020;

    // DMA control bits (FWCfgDmaAccess.control).
    static constexpr std::uint32_t kDmaError = 1, kDmaRead = 2, kDmaSkip = 4, kDmaSelect = 8, kDmaWrite = 16;

    // `dma`: the ID item offers DMA (feature bit 1), for front-ends with it.
    explicit FwCfg(bool dma = false);
    // A named file at the next file selector; returns the selector.
    std::uint16_t add_file(const std::string& name, Payload bytes);
    // A fixed item (a selector below the file directory, not the device's own).
    void set_item(std::uint16_t selector, Payload bytes);
    // The x86 boot items QEMU's -kernel, -initrd and -append fill, by the
    // names a plan gives them (pc_machine.hpp): "setup", "kernel", "initrd"
    // (each a size item and a data item), "cmdline" (with its NUL) and
    // "nb-cpus"; names with a '/' are files. Throws for any other name.
    void add_named(const std::string& name, Payload bytes);
    void select(std::uint16_t selector);
    // The next bytes of the selected item; zeros past its end.
    void read(std::span<std::uint8_t> out);
    // Runs the FWCfgDmaAccess at `descriptor` (control, length, address, all
    // big-endian) and writes its control back: 0 when done, kDmaError when
    // the request cannot be served (a write: every item is read-only; a
    // range outside RAM). A descriptor outside RAM is ignored.
    void dma(std::uint64_t descriptor, const GuestRamView& ram);

private:
    void rebuild_directory();

    std::map<std::uint16_t, Payload> items_;
    std::vector<std::pair<std::string, std::uint16_t>> files_;
    std::uint16_t selected_ = kSignature;
    std::size_t position_ = 0;
};

class FwCfgMmio final : public BusDevice {
public:
    explicit FwCfgMmio(FwCfg& fw_cfg) : fw_cfg_(fw_cfg) {}
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    FwCfg& fw_cfg_;
};

// The x86 I/O ports from the selector port (0x510): selector at 0 (16-bit),
// data at 1 (8-bit), the DMA address at 4 (high 32 bits) and 8 (low 32 bits,
// which starts the transfer), both big-endian; a read at 4 gives the DMA
// signature "QEMU CFG".
class FwCfgIo final : public BusDevice {
public:
    static constexpr std::uint64_t kPorts = 12;
    FwCfgIo(FwCfg& fw_cfg, GuestRamView ram) : fw_cfg_(fw_cfg), ram_(std::move(ram)) {}
    void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
    void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;

private:
    FwCfg& fw_cfg_;
    GuestRamView ram_;
    std::uint32_t dma_high_ = 0;
};

} // namespace cvm
