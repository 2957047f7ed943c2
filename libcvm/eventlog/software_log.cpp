#include "libcvm/eventlog/software_log.hpp"

#include <fmt/format.h>

#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::eventlog {
namespace {

void put_tagged(std::vector<std::uint8_t>& out, std::uint32_t tag, ByteSpan bytes) {
    std::size_t at = out.size();
    out.resize(at + 8);
    le::write<std::uint32_t>(out, at, tag);
    le::write<std::uint32_t>(out, at + 4, static_cast<std::uint32_t>(bytes.size()));
    out.insert(out.end(), bytes.begin(), bytes.end());
}

ByteSpan as_bytes(const std::string& s) { return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

// Strings from a log are outside bytes: shown printable, others as \xNN.
std::string printable(ByteSpan bytes) {
    std::string out;
    for (auto c : bytes) {
        if (c >= 0x20 && c < 0x7f && c != '\\') out += static_cast<char>(c);
        else out += fmt::format("\\x{:02x}", c);
    }
    return out;
}

// Reads the fields of an operation encoding, each bounds-checked, with the
// log offset of the field in every complaint.
class Cursor {
public:
    Cursor(ByteSpan bytes, const std::string& name, std::uint64_t base) : bytes_(bytes), name_(name), base_(base) {}

    std::uint64_t offset() const { return base_ + pos_; }
    bool done() const { return pos_ == bytes_.size(); }
    ByteSpan take(std::size_t n, const char* what) {
        if (bytes_.size() - pos_ < n)
            throw_format_error(name_, offset(), fmt::format("operation encoding: {}", what),
                               fmt::format("{} bytes", n), fmt::format("{} left", bytes_.size() - pos_));
        ByteSpan out = bytes_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    std::uint8_t u8(const char* what) { return take(1, what)[0]; }
    std::uint32_t u32(const char* what) { return le::read<std::uint32_t>(take(4, what), 0); }
    std::uint64_t u64(const char* what) { return le::read<std::uint64_t>(take(8, what), 0); }
    // Strings as recorded (for rebuilding the plan) and printable (for people).
    std::string raw_str(const char* what) {
        std::uint32_t n = u32(what);
        ByteSpan b = take(n, what);
        return std::string(b.begin(), b.end());
    }
    std::string str(const char* what) {
        std::uint32_t n = u32(what);
        return printable(take(n, what));
    }
    bool flag(const char* what) {
        std::uint64_t at = offset();
        std::uint8_t v = u8(what);
        if (v > 1) throw_format_error(name_, at, fmt::format("operation encoding: {}", what), "0 or 1", std::to_string(v));
        return v == 1;
    }
    std::string tag() {
        for (std::size_t i = pos_; i < bytes_.size(); ++i)
            if (bytes_[i] == 0) {
                std::string out = printable(bytes_.subspan(pos_, i - pos_));
                pos_ = i + 1;
                return out;
            }
        throw_format_error(name_, offset(), "operation encoding: name", "a NUL-terminated operation name",
                           "no NUL");
    }

private:
    ByteSpan bytes_;
    const std::string& name_;
    std::uint64_t base_;
    std::size_t pos_ = 0;
};

} // namespace

std::vector<std::uint8_t> software_event_data(ByteSpan encoding, std::optional<ByteSpan> content) {
    std::vector<std::uint8_t> out;
    out.reserve(8 + encoding.size() + (content ? 8 + content->size() : 0));
    put_tagged(out, kOperationTag, encoding);
    if (content) put_tagged(out, kContentTag, *content);
    return out;
}

SoftwareEventData split_software_event_data(ByteSpan data, const std::string& name, std::uint64_t offset) {
    SoftwareEventData out;
    std::size_t pos = 0;
    auto tagged = [&](std::uint32_t expected_tag, const char* what) {
        if (data.size() - pos < 8)
            throw_format_error(name, offset + pos, fmt::format("{} tagged event header", what), "8 bytes",
                               fmt::format("{} left in the event data", data.size() - pos));
        std::uint32_t tag = le::read<std::uint32_t>(data, pos);
        if (tag != expected_tag)
            throw_format_error(name, offset + pos, fmt::format("{} taggedEventID", what),
                               fmt::format("{:#010x}", expected_tag), fmt::format("{:#010x}", tag));
        std::uint32_t size = le::read<std::uint32_t>(data, pos + 4);
        if (data.size() - pos - 8 < size)
            throw_format_error(name, offset + pos + 4, fmt::format("{} taggedEventDataSize", what),
                               fmt::format("at most {}", data.size() - pos - 8), std::to_string(size));
        std::uint64_t at = offset + pos + 8;
        ByteSpan bytes = data.subspan(pos + 8, size);
        pos += 8 + size;
        return std::pair{bytes, at};
    };
    std::tie(out.encoding, out.encoding_offset) = tagged(kOperationTag, "operation");
    if (pos < data.size()) {
        auto [content, at] = tagged(kContentTag, "content");
        out.content = content;
        out.content_offset = at;
    }
    if (pos != data.size())
        throw_format_error(name, offset + pos, "software event data", "its end after the content",
                           fmt::format("{} more bytes", data.size() - pos));
    return out;
}

SoftwareOperation decode_software_operation(ByteSpan encoding, const std::string& name, std::uint64_t offset) {
    Cursor c(encoding, name, offset);
    SoftwareOperation op;
    std::uint64_t name_offset = c.offset();
    op.name = c.tag();
    if (op.name == "create-vm") {
        std::uint32_t n = c.u32("parameter count");
        for (std::uint32_t i = 0; i < n; ++i) {
            std::string key = c.raw_str("parameter name");
            std::string value = c.raw_str("parameter value");
            op.text += fmt::format("{}{}={}", i ? " " : "", printable(as_bytes(key)), printable(as_bytes(value)));
            op.config.push_back({std::move(key), std::move(value)});
        }
    } else if (op.name == "add-memory") {
        std::uint64_t gpa = c.u64("gpa");
        std::uint64_t size = c.u64("size");
        bool confidential = c.flag("confidential");
        op.text = fmt::format("{:#x}+{:#x}{}", gpa, size, confidential ? " confidential" : "");
        op.operation = op::AddMemory{gpa, size, confidential, "ram"};
    } else if (op.name == "load-data") {
        op.gpa = c.u64("gpa");
        op.size = c.u64("size");
        op.measured = c.flag("measured");
        if (op.measured) {
            ByteSpan digest = c.take(32, "SHA-256 of the data");
            op.data_sha256.emplace(digest.begin(), digest.end());
        }
        op.text = fmt::format("{:#x}+{:#x}", op.gpa, op.size);
        if (op.data_sha256) op.text += " sha256:" + to_hex(*op.data_sha256);
        else op.text += " unmeasured";
        if (!c.done()) {
            op.page_type = c.raw_str("page type");
            op.text += " page-type " + printable(as_bytes(op.page_type));
        }
    } else if (op.name == "device-file") {
        // Checked as loaded data is, by digest; it adds nothing to a plan a
        // log rebuilds (no predictor measures device files).
        std::string device = c.raw_str("device kind");
        std::string file = c.raw_str("file name");
        op.size = c.u64("size");
        op.measured = true;
        ByteSpan digest = c.take(32, "SHA-256 of the file");
        op.data_sha256.emplace(digest.begin(), digest.end());
        op.text = fmt::format("{} {} {:#x} bytes sha256:{}", printable(as_bytes(device)), printable(as_bytes(file)),
                              op.size, to_hex(*op.data_sha256));
    } else if (op.name == "create-vcpus") {
        std::uint32_t count = c.u32("vCPU count");
        op.text = fmt::format("{}", count);
        op.operation = op::CreateVcpus{count};
    } else if (op.name == "set-registers") {
        std::uint32_t vcpu = c.u32("vCPU");
        std::uint32_t n = c.u32("register count");
        op.text = fmt::format("vcpu {}:", vcpu);
        op::SetRegisters set{vcpu, {}};
        for (std::uint32_t i = 0; i < n; ++i) {
            std::string reg = c.raw_str("register name");
            std::uint64_t value = c.u64("register value");
            op.text += fmt::format(" {}={:#x}", printable(as_bytes(reg)), value);
            set.registers.push_back({std::move(reg), value});
        }
        op.operation = std::move(set);
    } else if (op.name == "finalize") {
        op.operation = op::Finalize{};
    } else {
        throw_format_error(name, name_offset, "operation encoding: name",
                           "create-vm, add-memory, load-data, create-vcpus, set-registers or finalize",
                           fmt::format("\"{}\"", op.name));
    }
    if (!c.done())
        throw_format_error(name, c.offset(), fmt::format("{} encoding", op.name), "its end",
                           fmt::format("{} more bytes", offset + encoding.size() - c.offset()));
    return op;
}

} // namespace cvm::eventlog
