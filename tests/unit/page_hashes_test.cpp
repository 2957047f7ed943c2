// for_each_page_hash against page hashes computed here with OpenSSL's EVP
// interface directly: every lead offset class, sizes around page and window
// boundaries (a window is 2048 pages), owned bytes and a mapped file whose
// windows are released, the order of hand-over and an exception from the
// consumer.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "libcvm/digest/page_hashes.hpp"
#include "test_files.hpp"

namespace {

using cvm::ByteSpan;
using cvm::HashAlgorithm;

std::vector<std::uint8_t> evp_hash(const EVP_MD* md, const std::vector<std::uint8_t>& page) {
    std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
    unsigned n = 0;
    EVP_Digest(page.data(), page.size(), out.data(), &n, md, nullptr);
    out.resize(n);
    return out;
}

// The pages of a load of `data` placed `lead` bytes into its first page.
std::vector<std::vector<std::uint8_t>> expected_pages(const EVP_MD* md, const std::vector<std::uint8_t>& data,
                                                      std::size_t lead) {
    std::vector<std::uint8_t> padded(lead, 0);
    padded.insert(padded.end(), data.begin(), data.end());
    padded.resize((padded.size() + 4095) / 4096 * 4096, 0);
    std::vector<std::vector<std::uint8_t>> out;
    for (std::size_t at = 0; at < padded.size(); at += 4096)
        out.push_back(evp_hash(md, std::vector<std::uint8_t>(padded.begin() + at, padded.begin() + at + 4096)));
    return out;
}

std::vector<std::uint8_t> pattern(std::size_t size) {
    std::vector<std::uint8_t> b(size);
    for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i * 131 + (i >> 12) * 7 + 3);
    return b;
}

void expect_same(HashAlgorithm algorithm, const EVP_MD* md, const std::vector<std::uint8_t>& data, std::size_t lead,
                 const cvm::Payload* payload, ByteSpan view) {
    auto want = expected_pages(md, data, lead);
    std::size_t next = 0;
    cvm::for_each_page_hash(algorithm, view, lead, payload, [&](std::size_t index, const cvm::Digest& d) {
        ASSERT_EQ(index, next) << "pages must come in order";
        ASSERT_LT(index, want.size());
        EXPECT_EQ(cvm::to_hex(d.bytes()), cvm::to_hex(want[index])) << "page " << index << " lead " << lead;
        ++next;
    });
    EXPECT_EQ(next, want.size()) << "size " << data.size() << " lead " << lead;
}

TEST(PageHashes, EveryLeadAndSizeAgainstOpenSsl) {
    for (std::size_t size : {1ul, 4095ul, 4096ul, 4097ul, 3 * 4096ul + 123, 64 * 4096ul + 1})
        for (std::size_t lead : {0ul, 1ul, 2048ul, 4095ul}) {
            auto data = pattern(size);
            expect_same(HashAlgorithm::sha256, EVP_sha256(), data, lead, nullptr, data);
            expect_same(HashAlgorithm::sha512, EVP_sha512(), data, lead, nullptr, data);
        }
}

TEST(PageHashes, AcrossWindowsOfAMappedFileReleasedAfterUse) {
    // Three windows and a bit, from a mapped payload that is released as it goes.
    auto data = pattern(2 * 2048 * 4096 + 777 * 4096 + 99);
    std::string path = testing::TempDir() + "page-hashes-payload";
    cvmtest::write_file(path, data);
    auto payload = cvm::Payload::map_file(path);
    std::remove(path.c_str());
    expect_same(HashAlgorithm::sha384, EVP_sha384(), data, 0, &payload, payload.bytes());
    // A slice starting mid-page, as a load at an unaligned GPA reads it.
    auto part = payload.slice(5000, 2048 * 4096 + 10);
    std::vector<std::uint8_t> part_data(data.begin() + 5000, data.begin() + 5000 + 2048 * 4096 + 10);
    expect_same(HashAlgorithm::sha256, EVP_sha256(), part_data, 300, &part, part.bytes());
    // Released pages read back the same bytes.
    EXPECT_EQ(cvm::hash(HashAlgorithm::sha256, payload).hex(), cvm::hash(HashAlgorithm::sha256, ByteSpan(data)).hex());
}

TEST(PageHashes, AFileReadAsItGoesGivesTheSamePages) {
    // Payload::open_file: the workers read their shares from the file.
    auto data = pattern(2 * 2048 * 4096 + 555 * 4096 + 17);
    std::string path = testing::TempDir() + "page-hashes-streamed";
    cvmtest::write_file(path, data);
    auto payload = cvm::Payload::open_file(path);
    for (std::size_t lead : {0ul, 300ul}) {
        auto want = expected_pages(EVP_sha256(), data, lead);
        std::size_t next = 0;
        cvm::for_each_page_hash(HashAlgorithm::sha256, payload, lead, [&](std::size_t index, const cvm::Digest& d) {
            ASSERT_EQ(index, next);
            EXPECT_EQ(cvm::to_hex(d.bytes()), cvm::to_hex(want[index])) << "page " << index << " lead " << lead;
            ++next;
        });
        EXPECT_EQ(next, want.size());
    }
    EXPECT_TRUE(payload.streams()) << "hashing made a copy of the file";
    std::remove(path.c_str());
}

TEST(PageHashes, AnExceptionFromTheConsumerStopsTheWalk) {
    auto data = pattern(5000 * 4096);
    std::size_t seen = 0;
    EXPECT_THROW(cvm::for_each_page_hash(HashAlgorithm::sha256, data, 0, nullptr,
                                         [&](std::size_t index, const cvm::Digest&) {
                                             ++seen;
                                             if (index == 2100) throw std::runtime_error("stop");
                                         }),
                 std::runtime_error);
    EXPECT_EQ(seen, 2101u);
}


TEST(PageHashes, AWorkerThatCannotReadStopsTheWalkWithItsError) {
    // The file shrinks after it was opened: a worker's read fails in the
    // third window while the chain has taken the first; the walk ends with
    // the read's error, not a hang, and hands over nothing past the failure.
    auto data = pattern(5 * 2048 * 4096);
    std::string path = testing::TempDir() + "page-hashes-truncated";
    cvmtest::write_file(path, data);
    auto payload = cvm::Payload::open_file(path);
    ASSERT_TRUE(payload.streams());
    ASSERT_EQ(::truncate(path.c_str(), 2 * 2048 * 4096 + 100 * 4096), 0);
    std::size_t seen = 0;
    try {
        cvm::for_each_page_hash(HashAlgorithm::sha256, payload, 0, [&](std::size_t, const cvm::Digest&) { ++seen; });
        ADD_FAILURE() << "a truncated file hashed without an error";
    } catch (const cvm::Error& e) {
        EXPECT_NE(std::string(e.what()).find("page-hashes-truncated"), std::string::npos) << e.what();
    }
    EXPECT_LE(seen, 2u * 2048u);
    std::remove(path.c_str());
}

TEST(PageHashes, TheLoadsOwnDigestsComeFromTheSameRead) {
    // Over five windows (a window is a quarter of the load, 128 pages at
    // least: 160 here), so each slot's kept buffer is refilled, for a file
    // that streams, a mapped file and owned bytes, at two leads: the page
    // hashes are OpenSSL's, and so are the digests of the data itself; a
    // streamed file's digests are remembered, so hash() needs no read.
    auto data = pattern(5 * 128 * 4096 + 3 * 4096 + 5);
    std::string path = testing::TempDir() + "page-hashes-stream-digests";
    cvmtest::write_file(path, data);
    const std::string want256 = cvm::to_hex(evp_hash(EVP_sha256(), data)), want512 = cvm::to_hex(evp_hash(EVP_sha512(), data));
    for (std::size_t lead : {0ul, 300ul}) {
        auto want = expected_pages(EVP_sha256(), data, lead);
        cvm::Payload payloads[] = {cvm::Payload::open_file(path), cvm::Payload::map_file(path),
                                   cvm::Payload::from_bytes(data, "owned")};
        for (const auto& payload : payloads) {
            std::size_t next = 0;
            auto digests = cvm::for_each_page_hash(HashAlgorithm::sha256, payload, lead,
                                                   {HashAlgorithm::sha256, HashAlgorithm::sha512},
                                                   [&](std::size_t index, const cvm::Digest& d) {
                                                       ASSERT_EQ(index, next);
                                                       EXPECT_EQ(cvm::to_hex(d.bytes()), cvm::to_hex(want[index]));
                                                       ++next;
                                                   });
            EXPECT_EQ(next, want.size());
            ASSERT_EQ(digests.size(), 2u);
            EXPECT_EQ(digests[0].hex(), want256) << payload.name() << " lead " << lead;
            EXPECT_EQ(digests[1].hex(), want512) << payload.name() << " lead " << lead;
        }
        EXPECT_TRUE(payloads[0].streams());
        ASSERT_EQ(::truncate(path.c_str(), 4096), 0);  // a read now would fail
        EXPECT_EQ(cvm::hash(HashAlgorithm::sha512, payloads[0]).hex(), want512);
        cvmtest::write_file(path, data);
    }
    std::remove(path.c_str());
}

} // namespace
