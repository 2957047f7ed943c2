#include "libcvm/devices/pl031.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "libcvm/devices/primecell.hpp"

namespace cvm {
namespace {

// ARM DDI 0224B, 3.2.
constexpr std::uint16_t kDr = 0x000, kMr = 0x004, kLr = 0x008, kCr = 0x00c, kImsc = 0x010;
constexpr std::uint32_t kPeriphId = 0x00041031;

void answer(std::span<std::uint8_t> data, std::uint32_t v) {
    std::memset(data.data(), 0, data.size());
    std::memcpy(data.data(), &v, std::min<std::size_t>(data.size(), sizeof v));
}

std::int64_t host_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

} // namespace

void Pl031::read(std::uint64_t offset, std::span<std::uint8_t> data) {
    if (auto id = primecell_id(kPeriphId, offset)) return answer(data, *id);
    switch (offset) {
    case kDr:
    case kLr: return answer(data, static_cast<std::uint32_t>(host_seconds() + offset_));
    case kMr: return answer(data, match_);
    case kCr: return answer(data, 1);  // always started
    case kImsc: return answer(data, mask_);
    default: return answer(data, 0);  // RIS, MIS: no alarm ever raised
    }
}

void Pl031::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
    std::uint32_t v = 0;
    std::memcpy(&v, data.data(), std::min<std::size_t>(data.size(), sizeof v));
    switch (offset) {
    case kLr: offset_ = static_cast<std::int64_t>(v) - host_seconds(); break;
    case kMr: match_ = v; break;
    case kImsc: mask_ = v & 1; break;
    default: break;
    }
}

} // namespace cvm
