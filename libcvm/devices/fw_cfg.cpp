#include "libcvm/devices/fw_cfg.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {
namespace {

constexpr std::uint32_t kFeatureTraditional = 1, kFeatureDma = 2;
constexpr std::size_t kFileNameSize = 56;
constexpr std::size_t kDmaAccessSize = 16;  // struct FWCfgDmaAccess
constexpr std::uint64_t kDmaSignature = 0x51454d5520434647ull;  // "QEMU CFG"

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_be(std::span<const std::uint8_t> in) {
    std::uint64_t v = 0;
    for (auto b : in) v = v << 8 | b;
    return v;
}

Payload le32(std::uint64_t value, const char* name) {
    std::vector<std::uint8_t> bytes(4);
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<std::uint8_t>(value >> (8 * i));
    return Payload::from_bytes(std::move(bytes), name);
}

std::uint32_t get_le32(std::span<const std::uint8_t> in) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < in.size() && i < 4; ++i) v |= std::uint32_t{in[i]} << (8 * i);
    return v;
}

} // namespace

FwCfg::FwCfg(bool dma) {
    items_[kSignature] = Payload::from_bytes({'Q', 'E', 'M', 'U'}, "fw_cfg signature");
    // Little-endian, as QEMU stores it (fw_cfg_add_i32).
    items_[kId] = le32(kFeatureTraditional | (dma ? kFeatureDma : 0), "fw_cfg features");
    rebuild_directory();
}

void FwCfg::rebuild_directory() {
    // struct FWCfgFiles: a big-endian count, then per file a big-endian
    // size, select and reserved field and a 56-byte NUL-padded name.
    std::vector<std::uint8_t> dir;
    put_be(dir, files_.size(), 4);
    for (const auto& [name, selector] : files_) {
        put_be(dir, items_.at(selector).size(), 4);
        put_be(dir, selector, 2);
        put_be(dir, 0, 2);
        std::vector<std::uint8_t> padded(kFileNameSize, 0);
        std::memcpy(padded.data(), name.data(), name.size());
        dir.insert(dir.end(), padded.begin(), padded.end());
    }
    items_[kFileDir] = Payload::from_bytes(std::move(dir), "fw_cfg file directory");
}

std::uint16_t FwCfg::add_file(const std::string& name, Payload bytes) {
    if (name.empty() || name.size() >= kFileNameSize)
        throw Error(fmt::format("fw_cfg file name '{}' must be 1 to {} bytes", name, kFileNameSize - 1));
    for (const auto& file : files_)
        if (file.first == name) throw Error(fmt::format("fw_cfg already has a file '{}'", name));
    const auto selector = static_cast<std::uint16_t>(kFirstFile + files_.size());
    items_[selector] = std::move(bytes);
    files_.emplace_back(name, selector);
    rebuild_directory();
    return selector;
}

void FwCfg::set_item(std::uint16_t selector, Payload bytes) {
    if (selector == kSignature || selector == kId || selector >= kFileDir)
        throw Error(fmt::format("fw_cfg item {:#x} is the device's own or a file's", selector));
    items_[selector] = std::move(bytes);
}

void FwCfg::add_named(const std::string& name, Payload bytes) {
    struct Boot { const char* name; std::uint16_t size, data; };
    static constexpr Boot kBoot[] = {
        {"setup", kSetupSize, kSetupData}, {"kernel", kKernelSize, kKernelData},
        {"initrd", kInitrdSize, kInitrdData}, {"cmdline", kCmdlineSize, kCmdlineData},
    };
    for (const auto& item : kBoot)
        if (name == item.name) {
            set_item(item.size, le32(bytes.size(), item.name));
            set_item(item.data, std::move(bytes));
            return;
        }
    if (name == "nb-cpus") return set_item(kNbCpus, std::move(bytes));
    if (name.find('/') != std::string::npos) {
        add_file(name, std::move(bytes));
        return;
    }
    throw Error(fmt::format("fw_cfg has no item '{}' (setup, kernel, initrd, cmdline, nb-cpus, or a file with a '/')",
                            name));
}

void FwCfg::select(std::uint16_t selector) {
    selected_ = selector;
    position_ = 0;
}

void FwCfg::read(std::span<std::uint8_t> out) {
    std::fill(out.begin(), out.end(), 0);
    auto it = items_.find(selected_);
    if (it == items_.end()) return;  // an unknown item reads as zeros
    const ByteSpan item = it->second.bytes();
    for (auto& byte : out) {
        if (position_ >= item.size()) break;
        byte = item[position_++];
    }
}

void FwCfg::dma(std::uint64_t descriptor, const GuestRamView& ram) {
    std::span<std::uint8_t> access;
    try {
        access = ram(descriptor, kDmaAccessSize);
    } catch (const Error&) {
        return;  // nowhere to report to, as in QEMU (fw_cfg_dma_transfer)
    }
    auto control = static_cast<std::uint32_t>(get_be(access.subspan(0, 4)));
    const auto length = static_cast<std::uint32_t>(get_be(access.subspan(4, 4)));
    const std::uint64_t address = get_be(access.subspan(8, 8));
    auto finish = [&](std::uint32_t value) {
        for (int i = 0; i < 4; ++i) access[i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
    };
    if (control & kDmaSelect) select(static_cast<std::uint16_t>(control >> 16));
    if (control & kDmaWrite) return finish(kDmaError);  // no item is writable
    if (!(control & (kDmaRead | kDmaSkip))) return finish(0);
    auto it = items_.find(selected_);
    const std::size_t item_size = it == items_.end() ? 0 : it->second.size();
    const std::size_t available = position_ < item_size ? item_size - position_ : 0;
    const std::size_t from_item = std::min<std::size_t>(length, available);
    if (control & kDmaRead) {
        std::span<std::uint8_t> target;
        try {
            target = length ? ram(address, length) : std::span<std::uint8_t>();
        } catch (const Error&) {
            return finish(kDmaError);
        }
        // Past the item's end the guest reads zeros (QEMU: dma_memory_set).
        if (from_item) std::memcpy(target.data(), it->second.bytes().data() + position_, from_item);
        std::fill(target.begin() + static_cast<std::ptrdiff_t>(from_item), target.end(), 0);
    }
    position_ += from_item;
    finish(0);
}

void FwCfgMmio::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    if (offset == 0 && data.size() <= 8) return fw_cfg_.read(data);  // bytes in item order
    std::fill(data.begin(), data.end(), 0);  // the selector and DMA registers are write-only
}

void FwCfgMmio::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    if (offset == 8 && data.size() == 2) fw_cfg_.select(static_cast<std::uint16_t>(data[0] << 8 | data[1]));
    // Data writes are ignored (QEMU 2.4+), and DMA is not offered.
}

void FwCfgIo::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    if (offset == 1) return fw_cfg_.read(data);
    std::fill(data.begin(), data.end(), 0);
    // The DMA register reads as its signature, big-endian, from port 0x514.
    if (offset >= 4 && offset + data.size() <= 12)
        for (std::size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<std::uint8_t>(kDmaSignature >> (8 * (7 - (offset - 4 + i))));
}

void FwCfgIo::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    // The selector as a 16-bit port write (outw), little-endian.
    if (offset == 0 && data.size() == 2) return fw_cfg_.select(static_cast<std::uint16_t>(get_le32(data)));
    if (data.size() != 4) return;  // the DMA halves are 32-bit writes; anything else is ignored
    // outl of a big-endian value: the port sees the bytes in memory order.
    const auto half = static_cast<std::uint32_t>(get_be(data));
    if (offset == 4) dma_high_ = half;
    if (offset == 8) {
        const std::uint64_t descriptor = std::uint64_t{dma_high_} << 32 | half;
        dma_high_ = 0;
        fw_cfg_.dma(descriptor, ram_);
    }
}

} // namespace cvm
