#include "libcvm/devices/piix4_pm.hpp"

#include <algorithm>

namespace cvm {
namespace {

constexpr std::uint64_t kTimer = 8, kTimerHz = 3579545;

} // namespace

void Piix4Pm::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    if (offset + data.size() <= AcpiPm1::kLength) return pm1_.read(offset, data);
    std::fill(data.begin(), data.end(), 0);
    if (offset < kTimer || offset >= kTimer + 4) return;
    const auto elapsed = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count());
    // Whole seconds and the rest apart, so that no product overflows 64 bits.
    constexpr std::uint64_t kNs = 1'000'000'000;
    const auto ticks =
        static_cast<std::uint32_t>((elapsed / kNs) * kTimerHz + (elapsed % kNs) * kTimerHz / kNs) & 0xffffff;
    for (std::size_t i = 0; i < data.size() && offset - kTimer + i < 4; ++i)
        data[i] = static_cast<std::uint8_t>(ticks >> (8 * (offset - kTimer + i)));
}

void Piix4Pm::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    if (offset + data.size() <= AcpiPm1::kLength) pm1_.write(offset, data);
}

} // namespace cvm
