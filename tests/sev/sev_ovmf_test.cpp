// The OVMF table parser on the vectors' firmware and on broken copies of
// the synthetic one: every malformed table is a cvm::Error naming the
// file and the byte offset of the bad field. The offsets below were read
// off synthetic_fw.bin by hand (footer at 0x1fce, metadata entry trailer at
// 0x1fbc with its data at 0x1fb8, reset block data at 0x1fa2, "ASEV" at
// 0x1100 with its descriptors from 0x1110, 12 bytes each).
#include <gtest/gtest.h>

#include <fstream>

#include "backends/amd-sev/ovmf_table.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"
#include "test_files.hpp"
#include "test_paths.hpp"

using namespace cvm;
using namespace cvm::sev;

namespace {

std::vector<std::uint8_t> synthetic() {
    return cvmtest::read_file(cvmtest::vector_path("sev/synthetic_fw.bin"));
}

TEST(OvmfTable, SyntheticFirmware) {
    auto syn = synthetic();
    auto info = parse_ovmf(syn, "syn");
    EXPECT_EQ(info.gpa, 0xffffe000u);
    EXPECT_EQ(info.reset_address, 0x0080b004u);
    ASSERT_TRUE(info.hash_area && info.secret_area && info.metadata);
    EXPECT_EQ(info.hash_area->base, 0x810c00u);
    EXPECT_EQ(info.hash_area->size, 0x400u);
    EXPECT_EQ(info.secret_area->base, 0x810000u);
    EXPECT_EQ(info.secret_area->size, 0xc00u);
    ASSERT_EQ(info.metadata->size(), 6u);
    EXPECT_EQ((*info.metadata)[4].type, SectionType::kernel_hashes);
    EXPECT_EQ((*info.metadata)[5].size, 0xf000u);
}

TEST(OvmfTable, DebianOvmf) {
    if (auto why = cvmtest::vector_missing("sev/OVMF-deb12.fd"); !why.empty()) GTEST_SKIP() << why;
    auto deb = Payload::map_file(cvmtest::vector_path("sev/OVMF-deb12.fd"));
    auto d = parse_ovmf(deb.bytes(), deb.name());
    EXPECT_EQ(d.reset_address, 0x0080b004u);
    ASSERT_TRUE(d.hash_area);
    EXPECT_EQ(d.hash_area->base, 0u);  // Debian's OVMF cannot check kernel hashes
    ASSERT_TRUE(d.metadata);
    ASSERT_EQ(d.metadata->size(), 5u);
    EXPECT_EQ((*d.metadata)[4].gpa, 0x80f000u);
    EXPECT_EQ((*d.metadata)[4].size, 0x11000u);
}

TEST(OvmfTable, AmdSevOvmfSuffix) {
    if (auto why = cvmtest::vector_missing("sev/ovmf_AmdSev_suffix.bin"); !why.empty()) GTEST_SKIP() << why;
    auto suffix = Payload::map_file(cvmtest::vector_path("sev/ovmf_AmdSev_suffix.bin"));
    auto s = parse_ovmf(suffix.bytes(), suffix.name());
    ASSERT_TRUE(s.metadata);
    EXPECT_EQ(s.metadata->size(), 7u);
    EXPECT_EQ((*s.metadata)[4].type, SectionType::svsm_caa);
}

void expect_located(std::vector<std::uint8_t> image, std::uint64_t offset, const std::string& what) {
    try {
        parse_ovmf(image, "broken.fd");
        ADD_FAILURE() << "accepted: " << what;
    } catch (const Error& e) {
        EXPECT_EQ(e.offset(), offset) << e.what();
        EXPECT_NE(std::string(e.what()).find("broken.fd"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
    }
}

TEST(OvmfTable, MalformedTablesAreLocated) {
    auto base = synthetic();
    auto edit = [&](std::size_t at, std::vector<std::uint8_t> bytes) {
        auto copy = base;
        std::copy(bytes.begin(), bytes.end(), copy.begin() + static_cast<std::ptrdiff_t>(at));
        return copy;
    };
    expect_located(std::vector<std::uint8_t>(base.begin(), base.end() - 16), 0, "firmware image size");
    expect_located(edit(0x1fce, {0x00, 0x30}), 0x1fce, "footer table size");          // 0x3000 > image
    expect_located(edit(0x1fbc, {5, 0}), 0x1fbc, "entry length");                      // < 18
    expect_located(edit(0x1fbc, {0xf0, 0}), 0x1fbc, "entry length");                   // past the table
    expect_located(edit(0x1fce, {115, 0}), 0x1f6d, "stray bytes");                     // table 1 byte long
    expect_located(edit(0x1fce, {113, 0}), 0x1f76, "entry length");                    // table 1 byte short
    expect_located(edit(0x1fa2, {0, 0, 0, 0}), 0x1fa2, "reset address");
    expect_located(edit(0x1fb8, {0x00, 0x30, 0, 0}), 0x1fb8, "metadata offset");       // beyond the image
    expect_located(edit(0x1100, {'X'}), 0x1100, "signature");
    expect_located(edit(0x1108, {2}), 0x1108, "metadata version");
    expect_located(edit(0x110c, {200}), 0x110c, "section count");
    expect_located(edit(0x1118, {7}), 0x1118, "type");
    expect_located(edit(0x1110, {0x10}), 0x1110, "4 KiB-aligned");                    // gpa 0x800010
    expect_located(edit(0x112c, {0x00, 0x20}), 0x112c, "size");                        // a 2-page SECRETS
}

TEST(OvmfTable, AStreamedImageIsParsedFromItsEndAndItsMetadata) {
    // The synthetic firmware behind 128 KiB of padding, with its "ASEV"
    // block moved to 4 KiB from the start: 132 KiB from the end, outside the
    // table's tail, which the payload overload reads on its own. Read from a
    // file that streams, it must give what the in-memory parse gives, and a
    // broken signature there must be located in the file.
    auto syn = synthetic();
    constexpr std::size_t kPad = 128u << 10;
    std::vector<std::uint8_t> image(kPad, 0);
    image.insert(image.end(), syn.begin(), syn.end());
    const std::size_t moved = 0x1000;
    std::copy(syn.begin() + 0x1100, syn.begin() + 0x1100 + 0x100, image.begin() + moved);
    le::write<std::uint32_t>(image, kPad + 0x1fb8, static_cast<std::uint32_t>(image.size() - moved));
    auto write = [](const std::vector<std::uint8_t>& bytes) {
        std::string path = testing::TempDir() + "ovmf-streamed.fd";
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                     static_cast<std::streamsize>(bytes.size()));
        return path;
    };
    auto path = write(image);
    auto streamed = Payload::open_file(path);
    auto from_file = parse_ovmf(streamed, path);
    EXPECT_TRUE(streamed.streams()) << "the parse copied the image";
    auto in_memory = parse_ovmf(image, "image");
    auto original = parse_ovmf(syn, "syn");
    ASSERT_TRUE(from_file.metadata && in_memory.metadata && original.metadata);
    ASSERT_EQ(from_file.metadata->size(), original.metadata->size());
    for (std::size_t i = 0; i < original.metadata->size(); ++i) {
        EXPECT_EQ((*from_file.metadata)[i].gpa, (*original.metadata)[i].gpa);
        EXPECT_EQ((*from_file.metadata)[i].size, (*in_memory.metadata)[i].size);
        EXPECT_EQ((*from_file.metadata)[i].type, (*original.metadata)[i].type);
    }
    EXPECT_EQ(from_file.reset_address, original.reset_address);
    EXPECT_EQ(from_file.hash_area->base, original.hash_area->base);
    EXPECT_EQ(from_file.gpa, kFourGiB - image.size());

    image[moved] = 'X';
    path = write(image);
    try {
        parse_ovmf(Payload::open_file(path), path);
        ADD_FAILURE() << "a broken signature was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.offset(), moved) << e.what();
        EXPECT_NE(std::string(e.what()).find("signature"), std::string::npos) << e.what();
    }
    std::remove(path.c_str());
}

TEST(OvmfTable, NoFooterMeansNoTable) {
    std::vector<std::uint8_t> zeros(8192, 0);
    auto info = parse_ovmf(zeros, "zeros");
    EXPECT_FALSE(info.has_table);
    EXPECT_FALSE(info.reset_address || info.hash_area || info.metadata);
}

} // namespace
