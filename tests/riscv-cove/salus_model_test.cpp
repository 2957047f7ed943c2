// The Salus TVM measurement model: the public vectors of
// tests/vectors/cove/README.md, and multi-page, multi-region cases whose
// expected values this test computes itself from the documented formulas
// with OpenSSL (cove_images.hpp), never through libcvm's digest code.
#include <gtest/gtest.h>

#include "backends/riscv-cove/salus_model.hpp"
#include "cove_images.hpp"
#include "cvm/error.hpp"

using cvm::ByteSpan;
using cvm::cove::SalusRegisters;
using covetest::hex;

namespace {

const std::string kZero48(96, '0');

// tests/vectors/cove/README.md section 2.
TEST(SalusModel, PublicVectorPageAndConfig) {
    SalusRegisters r;
    std::vector<std::uint8_t> page(4096, 0);
    r.add_measured_pages(0x80200000, ByteSpan(page));
    EXPECT_EQ(r.pcr(2).hex(), "3091badc760341f743c0f38cd03a8a81aab6b9ef76c021aee57b8196a937e08a"
                              "ee128184f7a30673239ecbe7c3dd071c");
    r.finalize(0x80200000, 0x82200000);
    EXPECT_EQ(r.pcr(3).hex(), "6546929c18b5b73f3eaa6145a91bc03975e91982836328bd1892eb61e738c06b"
                              "4ba8a6c5f68fade876b4b668642bf37e");
    EXPECT_EQ(r.pcr(0).hex(), kZero48);
    EXPECT_EQ(r.pcr(1).hex(), kZero48);
}

// The vector's page is a single zero byte followed by the zero tail: a
// region shorter than a page measures as the whole page.
TEST(SalusModel, PublicVectorPageFromAShortRegion) {
    SalusRegisters r;
    std::vector<std::uint8_t> one(1, 0);
    r.add_measured_pages(0x80200000, ByteSpan(one));
    EXPECT_EQ(r.pcr(2).hex(), "3091badc760341f743c0f38cd03a8a81aab6b9ef76c021aee57b8196a937e08a"
                              "ee128184f7a30673239ecbe7c3dd071c");
}

// tests/vectors/cove/README.md section 1: asserted by Salus's guestvm test.
TEST(SalusModel, PublicVectorRuntimeExtendWithPadding) {
    SalusRegisters r;
    r.finalize(0, 0);
    auto digest = cvm::from_hex("97982a5b1414b9078103a1c008c4e3526c27b41cdbcf80790560a40f2a9bf2ed"
                                "4427ab1428789915ed4b3dc07c454bd9", "digest");
    r.runtime_extend(1, ByteSpan(digest));
    EXPECT_EQ(r.runtime(1).hex(), "4d783cdfa8d6bc1293d0f1bfb58f9f0b05a8ef723cb8745d142d60ac3b9d213c"
                                  "51f06aa1e9b92ff09f64e4a2d0c8fe87");
    // The other runtime registers are untouched, and the plain (unpadded)
    // extend is not what Salus computes.
    EXPECT_EQ(r.runtime(0).hex(), kZero48);
    EXPECT_NE(r.runtime(1).hex(), "96c4ef47b5b70840706372472f80b355673b289d02e219e2b55f2d3727596c97"
                                  "90adda77fa1b53bae481daa1113cc4b7");
}

TEST(SalusModel, MultiPageMultiRegionMatchesTheFormula) {
    auto kernel = covetest::pattern(5 * 4096 + 77, 1);   // 6 pages, a partial last one
    auto initrd = covetest::pattern(3 * 4096, 2);        // exactly 3 pages
    auto fdt = covetest::pattern(100, 3);                // less than a page
    SalusRegisters r;
    r.add_measured_pages(0x80200000, ByteSpan(kernel));
    r.add_measured_pages(0x8fffc000, ByteSpan(initrd));
    r.add_measured_pages(0x80800000, ByteSpan(fdt));
    r.finalize(0x80200000, 0x80800000);

    std::vector<std::uint8_t> pcr2(48, 0);
    covetest::extend_pages(pcr2, 0x80200000, kernel.data(), kernel.size());
    covetest::extend_pages(pcr2, 0x8fffc000, initrd.data(), initrd.size());
    covetest::extend_pages(pcr2, 0x80800000, fdt.data(), fdt.size());
    EXPECT_EQ(r.pcr(2).hex(), hex(pcr2));

    std::vector<std::uint8_t> zero(48, 0);
    auto step = covetest::Sha384().add(zero).le64(0x80200000).done();
    auto pcr3 = covetest::Sha384().add(step).le64(0x80800000).done();
    EXPECT_EQ(r.pcr(3).hex(), hex(pcr3));

    auto tci = covetest::Sha384().add(zero).add(zero).add(pcr2).add(pcr3).done();
    EXPECT_EQ(r.attestation_tci().hex(), hex(tci));
}

TEST(SalusModel, RegionOrderAndAddressesMatter) {
    auto a = covetest::pattern(4096, 4), b = covetest::pattern(4096, 5);
    SalusRegisters ab, ba, moved;
    ab.add_measured_pages(0x80000000, ByteSpan(a));
    ab.add_measured_pages(0x80001000, ByteSpan(b));
    ba.add_measured_pages(0x80001000, ByteSpan(b));
    ba.add_measured_pages(0x80000000, ByteSpan(a));
    moved.add_measured_pages(0x80002000, ByteSpan(a));
    moved.add_measured_pages(0x80003000, ByteSpan(b));
    EXPECT_NE(ab.pcr(2), ba.pcr(2));
    EXPECT_NE(ab.pcr(2), moved.pcr(2));
}

TEST(SalusModel, RefusesWhatTheTsmRefuses) {
    SalusRegisters r;
    std::vector<std::uint8_t> page(4096, 1);
    EXPECT_THROW(r.add_measured_pages(0x80000800, ByteSpan(page)), cvm::Error);  // unaligned
    EXPECT_THROW(r.add_measured_pages(0x80000000, ByteSpan()), cvm::Error);      // empty
    std::vector<std::uint8_t> digest(48, 7);
    EXPECT_THROW(r.runtime_extend(0, ByteSpan(digest)), cvm::Error);             // before finalize
    r.finalize(1, 2);
    EXPECT_THROW(r.finalize(1, 2), cvm::Error);
    EXPECT_THROW(r.add_measured_pages(0x80000000, ByteSpan(page)), cvm::Error);  // after finalize
    EXPECT_THROW(r.runtime_extend(4, ByteSpan(digest)), cvm::Error);             // no such register
    std::vector<std::uint8_t> short_digest(32, 7);
    EXPECT_THROW(r.runtime_extend(0, ByteSpan(short_digest)), cvm::Error);
}

} // namespace
