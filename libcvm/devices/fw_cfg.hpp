// QEMU's firmware configuration device (docs/specs/fw_cfg.rst in QEMU;
// hw/nvram/fw_cfg.c), the traditional interface: the guest selects an item
// and reads its bytes in order from the data register. The signature, the
// feature ID (no DMA) and the file directory are always there; a machine
// adds its own files. Front-ends: the MMIO layout of Arm virt machines
// (data at 0, 8 bytes wide; a big-endian 16-bit selector at 8; the DMA
// address at 16, which this device does not implement).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "libcvm/devices/bus.hpp"

namespace cvm {

class FwCfg {
public:
    static constexpr std::uint16_t kSignature = 0x0000;
    static constexpr std::uint16_t kId = 0x0001;
    static constexpr std::uint16_t kFileDir = 0x0019;
    static constexpr std::uint16_t kFirstFile = 0x0020;

    FwCfg();
    // A named file at the next file selector; returns the selector.
    std::uint16_t add_file(const std::string& name, std::vector<std::uint8_t> bytes);
    void select(std::uint16_t selector);
    // The next bytes of the selected item; zeros past its end.
    void read(std::span<std::uint8_t> out);

private:
    void rebuild_directory();

    std::map<std::uint16_t, std::vector<std::uint8_t>> items_;
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

} // namespace cvm
