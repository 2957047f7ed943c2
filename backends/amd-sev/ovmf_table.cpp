#include "backends/amd-sev/ovmf_table.hpp"

#include <algorithm>
#include <array>
#include <functional>

#include <fmt/format.h>

#include "backends/amd-sev/guid.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::sev {
namespace {

constexpr Guid kFooterGuid = guid_le("96b582de-1fb2-45f7-baea-a366c55a082d");
constexpr Guid kResetBlockGuid = guid_le("00f771de-1a7e-4fcb-890e-68c77e2fb44e");
constexpr Guid kHashTableGuid = guid_le("7255371f-3a3b-4b04-927b-1da6efa8d454");
constexpr Guid kSecretGuid = guid_le("4c2eb361-7d9b-4cc3-8081-127c90d3d294");
constexpr Guid kMetadataGuid = guid_le("dc886566-984a-4798-a75e-5585a7bf67cc");

// The table ends 32 bytes before the end of the image; each entry, and the
// footer itself, ends with a u16 length and a GUID.
constexpr std::size_t kTableEndFromImageEnd = 32;
constexpr std::size_t kEntryTrailer = 2 + 16;
constexpr std::uint64_t kMaxImage = 16ull << 20;
constexpr std::size_t kMetadataHeader = 16;
constexpr std::size_t kMetadataDescriptor = 12;

// The image as the parser reads it: its size, and little-endian fields and
// GUIDs at offsets. Everything the parser reads but the metadata lies in
// the table at the end, so the last kTail bytes are read once; anything
// before them (the metadata, wherever its offset points) is read when
// asked for. An image that streams from its file is thus never read whole.
class ImageBytes {
public:
    static constexpr std::size_t kTail = (64u << 10) + 64;  // a u16-sized table and the footer

    ImageBytes(std::size_t size, std::function<void(std::size_t, std::span<std::uint8_t>)> read)
        : size_(size), read_(std::move(read)), tail_at_(size - std::min(size, kTail)), tail_(size - tail_at_) {
        read_(tail_at_, tail_);
    }

    std::size_t size() const { return size_; }

    template <class T>
    T le(std::size_t offset) const {
        std::array<std::uint8_t, sizeof(T)> b;
        copy(offset, b);
        return le::read<T>(b, 0);
    }
    bool has(std::size_t offset, ByteSpan expected) const {
        std::array<std::uint8_t, 16> b;
        if (expected.size() > b.size()) return false;
        copy(offset, std::span<std::uint8_t>(b.data(), expected.size()));
        return std::equal(expected.begin(), expected.end(), b.begin());
    }
    bool has(std::size_t offset, const Guid& guid) const { return has(offset, ByteSpan(guid.data(), guid.size())); }

private:
    void copy(std::size_t offset, std::span<std::uint8_t> out) const {
        if (offset > size_ || out.size() > size_ - offset)
            throw Error(fmt::format("OVMF parser: a read of {} bytes at {:#x} past the {:#x}-byte image", out.size(),
                                    offset, size_));
        if (offset >= tail_at_)
            std::copy_n(tail_.begin() + static_cast<std::ptrdiff_t>(offset - tail_at_), out.size(), out.begin());
        else
            read_(offset, out);
    }

    std::size_t size_;
    std::function<void(std::size_t, std::span<std::uint8_t>)> read_;
    std::size_t tail_at_;
    std::vector<std::uint8_t> tail_;
};

// The data of one table entry, located in the image for error messages.
struct Entry {
    std::size_t offset;
    std::size_t size;
};

GpaRange read_range(const ImageBytes& image, const std::string& file, const Entry& entry, const char* what) {
    if (entry.size < 8)
        throw_format_error(file, entry.offset, fmt::format("OVMF {} entry data", what), "at least 8 bytes",
                           fmt::format("{} bytes", entry.size));
    return {image.le<std::uint32_t>(entry.offset), image.le<std::uint32_t>(entry.offset + 4)};
}

std::vector<MetadataSection> parse_metadata(const ImageBytes& image, const std::string& file, const Entry& entry) {
    if (entry.size < 4)
        throw_format_error(file, entry.offset, "OVMF SEV metadata offset entry data", "at least 4 bytes",
                           fmt::format("{} bytes", entry.size));
    std::uint32_t from_end = image.le<std::uint32_t>(entry.offset);
    if (from_end < kMetadataHeader || from_end > image.size())
        throw_format_error(file, entry.offset, "SEV metadata offset (from the end of the image)",
                           fmt::format("between {} and {:#x}", kMetadataHeader, image.size()),
                           fmt::format("{:#x}", from_end));
    std::size_t start = image.size() - from_end;
    if (const std::uint32_t signature = image.le<std::uint32_t>(start); signature != 0x56455341)  // "ASEV"
        throw_format_error(file, start, "SEV metadata signature", "\"ASEV\"",
                           fmt::format("{:02x} {:02x} {:02x} {:02x}", signature & 0xff, (signature >> 8) & 0xff,
                                       (signature >> 16) & 0xff, signature >> 24));
    std::uint32_t length = image.le<std::uint32_t>(start + 4);
    std::uint32_t version = image.le<std::uint32_t>(start + 8);
    std::uint32_t count = image.le<std::uint32_t>(start + 12);
    if (length < kMetadataHeader || length > from_end)
        throw_format_error(file, start + 4, "SEV metadata length",
                           fmt::format("between {} and {:#x} (the rest of the image)", kMetadataHeader, from_end),
                           fmt::format("{:#x}", length));
    if (version != 1)
        throw_format_error(file, start + 8, "SEV metadata version", "1", std::to_string(version));
    if (count > (length - kMetadataHeader) / kMetadataDescriptor)
        throw_format_error(file, start + 12, "SEV metadata section count",
                           fmt::format("at most {} for a {}-byte block", (length - kMetadataHeader) / kMetadataDescriptor,
                                       length),
                           std::to_string(count));
    std::vector<MetadataSection> sections;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::size_t at = start + kMetadataHeader + i * kMetadataDescriptor;
        MetadataSection s;
        s.gpa = image.le<std::uint32_t>(at);
        s.size = image.le<std::uint32_t>(at + 4);
        std::uint32_t type = image.le<std::uint32_t>(at + 8);
        switch (type) {
        case 1: case 2: case 3: case 4: case 0x10: s.type = static_cast<SectionType>(type); break;
        default:
            throw_format_error(file, at + 8, fmt::format("SEV metadata section {} type", i),
                               "1 (SEC_MEM), 2 (SECRETS), 3 (CPUID), 4 (SVSM_CAA) or 0x10 (KERNEL_HASHES)",
                               fmt::format("{:#x}", type));
        }
        if (s.gpa % 4096 != 0 || s.size == 0 || s.size % 4096 != 0 ||
            std::uint64_t{s.gpa} + s.size > kFourGiB - image.size())
            throw_format_error(file, at, fmt::format("SEV metadata section {} ({})", i, to_string(s.type)),
                               "a non-empty, 4 KiB-aligned range below the firmware",
                               fmt::format("gpa {:#x} size {:#x}", s.gpa, s.size));
        if ((s.type == SectionType::secrets || s.type == SectionType::cpuid) && s.size != 4096)
            throw_format_error(file, at + 4, fmt::format("SEV metadata section {} ({}) size", i, to_string(s.type)),
                               "0x1000 (one page)", fmt::format("{:#x}", s.size));
        sections.push_back(s);
    }
    return sections;
}

} // namespace

std::string_view to_string(SectionType type) {
    switch (type) {
    case SectionType::sec_mem: return "SNP_SEC_MEM";
    case SectionType::secrets: return "SNP_SECRETS";
    case SectionType::cpuid: return "CPUID";
    case SectionType::svsm_caa: return "SVSM_CAA";
    case SectionType::kernel_hashes: return "SNP_KERNEL_HASHES";
    }
    return "unknown";
}

namespace {

void check_image_size(std::size_t size, const std::string& file) {
    if (size == 0 || size % 4096 != 0 || size > kMaxImage)
        throw_format_error(file, 0, "firmware image size", "a non-zero multiple of 4 KiB, at most 16 MiB",
                           fmt::format("{} bytes", size));
}

OvmfInfo parse(const ImageBytes& image, const std::string& file) {
    OvmfInfo info;
    info.file = file;
    info.size = image.size();
    info.gpa = kFourGiB - image.size();

    const std::size_t table_end = image.size() - kTableEndFromImageEnd;
    const std::size_t footer = table_end - kEntryTrailer;
    if (!image.has(footer + 2, kFooterGuid)) return info;  // not an OVMF with a table
    info.has_table = true;

    std::uint16_t table_size = image.le<std::uint16_t>(footer);
    if (table_size < kEntryTrailer || table_size > table_end)
        throw_format_error(file, footer, "OVMF footer table size",
                           fmt::format("between {} and {:#x}", kEntryTrailer, table_end), std::to_string(table_size));

    std::optional<Entry> reset, hashes, secret, metadata;
    const std::size_t table_start = table_end - table_size;
    std::size_t end = footer;  // entries are walked from the footer towards the start
    while (end - table_start >= kEntryTrailer) {
        std::size_t trailer = end - kEntryTrailer;
        std::uint16_t length = image.le<std::uint16_t>(trailer);
        if (length < kEntryTrailer || length > end - table_start)
            throw_format_error(file, trailer, "OVMF footer table entry length",
                               fmt::format("between {} and {} (the rest of the table)", kEntryTrailer, end - table_start),
                               std::to_string(length));
        Entry entry{end - length, length - kEntryTrailer};
        auto take = [&](std::optional<Entry>& slot, const char* what) {
            if (slot)
                throw_format_error(file, trailer + 2, fmt::format("OVMF footer table {} entry", what),
                                   "one entry", "a second one");
            slot = entry;
        };
        if (image.has(trailer + 2, kResetBlockGuid)) take(reset, "SEV-ES reset block");
        else if (image.has(trailer + 2, kHashTableGuid)) take(hashes, "SEV hash table");
        else if (image.has(trailer + 2, kSecretGuid)) take(secret, "SEV secret area");
        else if (image.has(trailer + 2, kMetadataGuid)) take(metadata, "SEV metadata");
        end -= length;
    }
    if (end != table_start)
        throw_format_error(file, table_start, "OVMF footer table",
                           "entries that exactly fill the table", fmt::format("{} stray bytes", end - table_start));

    if (reset) {
        if (reset->size < 4)
            throw_format_error(file, reset->offset, "OVMF SEV-ES reset block entry data", "at least 4 bytes",
                               fmt::format("{} bytes", reset->size));
        std::uint32_t address = image.le<std::uint32_t>(reset->offset);
        if (address == 0)
            throw_format_error(file, reset->offset, "SEV-ES AP reset address", "non-zero", "0");
        info.reset_address = address;
    }
    if (hashes) info.hash_area = read_range(image, file, *hashes, "SEV hash table");
    if (secret) info.secret_area = read_range(image, file, *secret, "SEV secret area");
    if (metadata) info.metadata = parse_metadata(image, file, *metadata);
    return info;
}

} // namespace

OvmfInfo parse_ovmf(ByteSpan image, const std::string& file) {
    check_image_size(image.size(), file);
    return parse(ImageBytes(image.size(),
                            [image](std::size_t offset, std::span<std::uint8_t> out) {
                                std::copy_n(image.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
                            }),
                 file);
}

OvmfInfo parse_ovmf(const Payload& image, const std::string& file) {
    check_image_size(image.size(), file);
    return parse(ImageBytes(image.size(), [&image](std::size_t offset, std::span<std::uint8_t> out) { image.read(offset, out); }),
                 file);
}

} // namespace cvm::sev
