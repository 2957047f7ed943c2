// Kernel image header parsers: valid headers are read field by field, every
// malformed one is rejected with the offset and the expectation in the text.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/image.hpp"
#include "synthetic_images.hpp"
#include "test_files.hpp"
#include "test_paths.hpp"

using namespace cvm;

namespace {

using cvmtest::put;

std::vector<std::uint8_t> bzimage() { return cvmtest::synthetic_bzimage(); }

std::string error_of(const std::vector<std::uint8_t>& b) {
    try {
        parse_bzimage(b, "vmlinuz");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(BzImage, ParsesFields) {
    auto b = bzimage();
    auto img = parse_bzimage(b, "vmlinuz");
    EXPECT_EQ(img.protocol_version, 0x020f);
    EXPECT_EQ(img.setup_size, 5u * 512);
    EXPECT_EQ(img.kernel.size(), 4096u);
    EXPECT_EQ(img.setup_header.size(), 0x26cu - 0x1f1u);
    EXPECT_EQ(img.initrd_addr_max, 0x7fffffffu);
    EXPECT_EQ(img.cmdline_size, 2047u);
    EXPECT_EQ(img.pref_address, 0x1000000u);
    EXPECT_EQ(img.init_size, 0x10000u);
    EXPECT_TRUE(img.relocatable);
}

TEST(BzImage, RejectsMalformedHeadersWithLocation) {
    struct Case {
        const char* name;
        void (*mutate)(std::vector<std::uint8_t>&);
        const char* expect;
    };
    const Case cases[] = {
        {"truncated", [](auto& b) { b.resize(0x100); }, "vmlinuz: offset 0x0: file size: expected at least 0x264"},
        {"boot flag", [](auto& b) { b[0x1fe] = 0; }, "offset 0x1fe: boot_flag: expected 0xaa55, found 0xaa00"},
        {"magic", [](auto& b) { b[0x202] = 'X'; }, "offset 0x202: setup header magic: expected \"HdrS\""},
        {"old protocol", [](auto& b) { put<std::uint16_t>(b, 0x206, 0x0206); }, "offset 0x206: boot protocol version: expected at least 0x020c"},
        {"header length", [](auto& b) { b[0x201] = 0x10; }, "offset 0x201: setup header length"},
        {"setup sectors", [](auto& b) { b[0x1f1] = 60; }, "offset 0x1f1: setup_sects"},
        {"zImage", [](auto& b) { b[0x211] = 0; }, "offset 0x211: loadflags: expected LOADED_HIGH"},
        {"32-bit only", [](auto& b) { put<std::uint16_t>(b, 0x236, 0); }, "offset 0x236: xloadflags: expected XLF_KERNEL_64"},
        {"init_size", [](auto& b) { put<std::uint32_t>(b, 0x260, 16); }, "offset 0x260: init_size: expected at least the protected-mode size 0x1000, found 0x10"},
        // 4096 bytes follow the setup part; syssize claims 4112 (0x101 paragraphs).
        {"syssize past the end", [](auto& b) { put<std::uint32_t>(b, 0x1f4, 0x101); }, "offset 0x1f4: syssize: expected a protected-mode part within the file (0x1000 bytes after setup), found 0x1010 bytes"},
    };
    for (const auto& c : cases) {
        auto b = bzimage();
        c.mutate(b);
        auto text = error_of(b);
        EXPECT_NE(text.find(c.expect), std::string::npos) << c.name << ": " << text;
    }
}

TEST(BzImage, AcceptsSyssizeUpToTheFileEnd) {
    auto b = bzimage();
    put<std::uint32_t>(b, 0x1f4, 0x100);  // exactly the 4096 bytes present
    EXPECT_EQ(parse_bzimage(b, "vmlinuz").kernel.size(), 4096u);
}

TEST(BzImage, RefusesAFileCutShortOfItsSyssize) {
    // A real header's syssize, then the file cut a byte short of it.
    auto b = bzimage();
    put<std::uint32_t>(b, 0x1f4, 0x100);
    b.pop_back();
    EXPECT_NE(error_of(b).find("offset 0x1f4: syssize"), std::string::npos) << error_of(b);
}

std::vector<std::uint8_t> arm64_header(std::uint64_t text_offset, std::uint64_t image_size, std::size_t file_size = 64) {
    std::vector<std::uint8_t> b(file_size, 0);
    put<std::uint64_t>(b, 8, text_offset);
    put<std::uint64_t>(b, 16, image_size);
    put<std::uint64_t>(b, 24, 0x2);
    put<std::uint32_t>(b, 56, 0x644d5241);
    return b;
}

std::string arm64_error(const std::vector<std::uint8_t>& b) {
    try {
        parse_arm64_image(b, "Image");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Arm64Image, RefusesImageSizeSmallerThanTheFile) {
    auto text = arm64_error(arm64_header(0, 0x1000, 0x1001));
    EXPECT_NE(text.find("Image: offset 0x10: arm64 Image image_size: expected 0 or at least the file size 0x1001, found 0x1000"),
              std::string::npos) << text;
    EXPECT_EQ(arm64_error(arm64_header(0, 0x1001, 0x1001)), "");
    EXPECT_EQ(arm64_error(arm64_header(0x80000, 0, 0x1001)), "");  // 0: pre-3.17, size not given
}

TEST(Arm64Image, RefusesATextOffsetThatWraps) {
    auto text = arm64_error(arm64_header(0xffffffffffff0000ull, 0x200000));
    EXPECT_NE(text.find("Image: offset 0x8: arm64 Image text_offset"), std::string::npos) << text;
}

TEST(Arm64Image, RealmPlannerRefusesAKernelPlacedBelowRam) {
    // text_offset 2^64 - 1 GiB: the qemu layout's RAM base (1 GiB) plus it
    // wraps to IPA 0, below RAM. The header alone is consistent.
    auto kernel = arm64_header(0ull - (1ull << 30), 0x200000);
    ASSERT_EQ(arm64_error(kernel), "");
    VmSpec spec;
    spec.technology = "arm-cca";
    spec.memory.size = 64ull << 20;
    spec.options["layout"] = "qemu";
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(kernel, "Image"), true, {}});
    try {
        find_backend("arm-cca").build_plan(spec);
        FAIL() << "a kernel below RAM got a plan (and so a RIM)";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("outside the guest memory it adds"), std::string::npos) << e.what();
    }
}

TEST(Arm64Image, ReadsTheReferenceToolsTestHeader) {
    // Published with the vectors: text_offset 0, image_size 0x2d10000, flags 0xa.
    if (auto why = cvmtest::vector_missing("cca/crm-testdata-linux.bin"); !why.empty()) GTEST_SKIP() << why;
    auto path = cvmtest::vector_path("cca/crm-testdata-linux.bin");
    std::vector<std::uint8_t> b = cvmtest::read_file(path);
    auto img = parse_arm64_image(b, path);
    EXPECT_EQ(img.text_offset, 0u);
    EXPECT_EQ(img.image_size, 0x2d10000u);
    EXPECT_EQ(img.flags, 0xau);
    EXPECT_EQ(img.page_size_code(), 1u);  // 4 KiB
    EXPECT_FALSE(img.big_endian());
}

TEST(Arm64Image, RejectsBadMagicAndFlags) {
    std::vector<std::uint8_t> b(64, 0);
    try {
        parse_arm64_image(b, "Image");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("Image: offset 0x38: arm64 Image magic"), std::string::npos) << e.what();
    }
    put<std::uint32_t>(b, 56, 0x644d5241);
    put<std::uint64_t>(b, 24, 0x100);
    EXPECT_THROW(parse_arm64_image(b, "Image"), Error);
    EXPECT_THROW(parse_arm64_image(std::vector<std::uint8_t>(10), "Image"), Error);
}

TEST(RiscvImage, ParsesAndRejects) {
    std::vector<std::uint8_t> b(64, 0);
    put<std::uint64_t>(b, 8, 0x200000);
    put<std::uint64_t>(b, 16, 0x1400000);
    put<std::uint32_t>(b, 32, 0x2);
    std::memcpy(b.data() + 56, "RSC\x05", 4);
    auto img = parse_riscv_image(b, "Image");
    EXPECT_EQ(img.text_offset, 0x200000u);
    EXPECT_EQ(img.image_size, 0x1400000u);
    EXPECT_EQ(img.version, 2u);
    b[56] = 'X';
    try {
        parse_riscv_image(b, "Image");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("offset 0x38: RISC-V Image magic"), std::string::npos) << e.what();
    }
    std::memcpy(b.data() + 56, "RSC\x05", 4);
    put<std::uint64_t>(b, 16, 0);
    EXPECT_THROW(parse_riscv_image(b, "Image"), Error);
}

} // namespace
