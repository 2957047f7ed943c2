#include "backends/arm-cca/cca_log.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::cca::log {
namespace {

constexpr char kVmVersionSignature[16] = "VM VERSION";  // NUL-padded to 16 bytes

void put_text(std::vector<std::uint8_t>& out, std::size_t at, std::size_t field, const std::string& text) {
    if (text.size() > field) throw Error(fmt::format("'{}' does not fit a {}-byte field", text, field));
    std::copy(text.begin(), text.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
}

// The characters up to the first NUL of a fixed-size field.
std::string get_text(ByteSpan field) {
    auto end = std::find(field.begin(), field.end(), std::uint8_t{0});
    std::string out;
    for (auto it = field.begin(); it != end; ++it) out += (*it >= 0x20 && *it < 0x7f) ? static_cast<char>(*it) : '?';
    return out;
}

void need_size(ByteSpan data, std::size_t size, const std::string& what, const std::string& name,
               std::uint64_t offset) {
    if (data.size() != size)
        throw_format_error(name, offset, what, fmt::format("{} bytes", size), fmt::format("{} bytes", data.size()));
}

} // namespace

std::vector<std::uint8_t> encode_vm_version(const VmVersion& v) {
    std::vector<std::uint8_t> out(kVmVersionSize, 0);
    std::memcpy(out.data(), kVmVersionSignature, sizeof kVmVersionSignature);
    put_text(out, 16, 32, v.name);
    put_text(out, 48, 40, v.version);
    le::write<std::uint64_t>(out, 88, v.ram_size);
    le::write<std::uint32_t>(out, 96, v.num_cpus);
    le::write<std::uint64_t>(out, 104, v.flags);
    return out;
}

bool is_vm_version(ByteSpan data) {
    return data.size() >= 16 && std::memcmp(data.data(), kVmVersionSignature, 16) == 0;
}

VmVersion decode_vm_version(ByteSpan data, const std::string& name, std::uint64_t offset) {
    if (!is_vm_version(data))
        throw_format_error(name, offset, "EV_NO_ACTION data", "the \"VM VERSION\" signature", "another signature");
    need_size(data, kVmVersionSize, "VM VERSION event data", name, offset);
    VmVersion v;
    v.name = get_text(data.subspan(16, 32));
    v.version = get_text(data.subspan(48, 40));
    v.ram_size = le::read<std::uint64_t>(data, 88);
    v.num_cpus = le::read<std::uint32_t>(data, 96);
    v.flags = le::read<std::uint64_t>(data, 104);
    return v;
}

std::vector<std::uint8_t> encode_tagged(std::uint32_t id, ByteSpan payload) {
    std::vector<std::uint8_t> out(8, 0);
    le::write<std::uint32_t>(out, 0, id);
    le::write<std::uint32_t>(out, 4, static_cast<std::uint32_t>(payload.size()));
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

Tagged split_tagged(ByteSpan data, const std::string& name, std::uint64_t offset) {
    if (data.size() < 8)
        throw_format_error(name, offset, "tagged event header (taggedEventID, taggedEventDataSize)", "8 bytes",
                           fmt::format("{} bytes of event data", data.size()));
    Tagged t;
    t.id = le::read<std::uint32_t>(data, 0);
    std::uint32_t size = le::read<std::uint32_t>(data, 4);
    if (size != data.size() - 8)
        throw_format_error(name, offset + 4, "taggedEventDataSize",
                           fmt::format("{} (the rest of the event data)", data.size() - 8), std::to_string(size));
    t.payload = data.subspan(8);
    t.payload_offset = offset + 8;
    return t;
}

std::vector<std::uint8_t> encode_realm_create(const RealmCreate& r) {
    std::vector<std::uint8_t> out(kRealmCreateSize, 0);
    le::write<std::uint64_t>(out, 0, r.flags);
    out[8] = r.s2sz;
    out[9] = r.sve_vl;
    out[10] = r.num_bps;
    out[11] = r.num_wps;
    out[12] = r.pmu_num_ctrs;
    out[13] = r.hash_algo;
    return out;
}

RealmCreate decode_realm_create(ByteSpan payload, const std::string& name, std::uint64_t offset) {
    need_size(payload, kRealmCreateSize, "REALM_CREATE data", name, offset);
    RealmCreate r;
    r.flags = le::read<std::uint64_t>(payload, 0);
    r.s2sz = payload[8];
    r.sve_vl = payload[9];
    r.num_bps = payload[10];
    r.num_wps = payload[11];
    r.pmu_num_ctrs = payload[12];
    r.hash_algo = payload[13];
    return r;
}

std::vector<std::uint8_t> encode_init_ripas(const InitRipas& r) {
    std::vector<std::uint8_t> out(kInitRipasSize, 0);
    le::write<std::uint64_t>(out, 0, r.base);
    le::write<std::uint64_t>(out, 8, r.size);
    return out;
}

InitRipas decode_init_ripas(ByteSpan payload, const std::string& name, std::uint64_t offset) {
    need_size(payload, kInitRipasSize, "INIT_RIPAS data", name, offset);
    return {le::read<std::uint64_t>(payload, 0), le::read<std::uint64_t>(payload, 8)};
}

std::vector<std::uint8_t> encode_rec_create(const RecCreate& r) {
    std::vector<std::uint8_t> out(kRecCreateSize, 0);
    le::write<std::uint64_t>(out, 0, r.flags);
    le::write<std::uint64_t>(out, 8, r.pc);
    for (std::size_t i = 0; i < r.gprs.size(); ++i) le::write<std::uint64_t>(out, 16 + 8 * i, r.gprs[i]);
    return out;
}

RecCreate decode_rec_create(ByteSpan payload, const std::string& name, std::uint64_t offset) {
    need_size(payload, kRecCreateSize, "REC_CREATE data", name, offset);
    RecCreate r;
    r.flags = le::read<std::uint64_t>(payload, 0);
    r.pc = le::read<std::uint64_t>(payload, 8);
    for (std::size_t i = 0; i < r.gprs.size(); ++i) r.gprs[i] = le::read<std::uint64_t>(payload, 16 + 8 * i);
    return r;
}

std::vector<std::uint8_t> encode_blob2(const Blob2& b) {
    if (b.description.size() > 255) throw Error(fmt::format("blob description '{}' is too long", b.description));
    std::vector<std::uint8_t> out;
    out.push_back(static_cast<std::uint8_t>(b.description.size()));
    out.insert(out.end(), b.description.begin(), b.description.end());
    std::size_t at = out.size();
    out.resize(at + 16);
    le::write<std::uint64_t>(out, at, b.base);
    le::write<std::uint64_t>(out, at + 8, b.length);
    return out;
}

Blob2 decode_blob2(ByteSpan data, const std::string& name, std::uint64_t offset) {
    if (data.empty())
        throw_format_error(name, offset, "UEFI_PLATFORM_FIRMWARE_BLOB2 BlobDescriptionSize", "1 byte", "no data");
    std::size_t size = data[0];
    need_size(data, 1 + size + 16, fmt::format("UEFI_PLATFORM_FIRMWARE_BLOB2 with a {}-byte description", size), name,
              offset);
    Blob2 b;
    b.description = get_text(data.subspan(1, size));
    b.base = le::read<std::uint64_t>(data, 1 + size);
    b.length = le::read<std::uint64_t>(data, 1 + size + 8);
    return b;
}

} // namespace cvm::cca::log
