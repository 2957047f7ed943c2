#include "libcvm/devices/fw_cfg.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {
namespace {

constexpr std::uint32_t kFeatureTraditional = 1;  // bit 1 (DMA) clear
constexpr std::size_t kFileNameSize = 56;

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

} // namespace

FwCfg::FwCfg() {
    items_[kSignature] = {'Q', 'E', 'M', 'U'};
    items_[kId] = {kFeatureTraditional, 0, 0, 0};  // little-endian, as QEMU stores it
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
    items_[kFileDir] = std::move(dir);
}

std::uint16_t FwCfg::add_file(const std::string& name, std::vector<std::uint8_t> bytes) {
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

void FwCfg::select(std::uint16_t selector) {
    selected_ = selector;
    position_ = 0;
}

void FwCfg::read(std::span<std::uint8_t> out) {
    std::fill(out.begin(), out.end(), 0);
    auto it = items_.find(selected_);
    if (it == items_.end()) return;  // an unknown item reads as zeros
    const auto& item = it->second;
    for (auto& byte : out) {
        if (position_ >= item.size()) break;
        byte = item[position_++];
    }
}

void FwCfgMmio::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    if (offset == 0 && data.size() <= 8) return fw_cfg_.read(data);  // bytes in item order
    std::fill(data.begin(), data.end(), 0);  // the selector and DMA registers are write-only
}

void FwCfgMmio::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    if (offset == 8 && data.size() == 2) fw_cfg_.select(static_cast<std::uint16_t>(data[0] << 8 | data[1]));
    // Data writes are ignored (QEMU 2.4+), and DMA is not offered.
}

} // namespace cvm
