// for_each_chunk, the walk under every serial payload hash: a file read in
// pieces (on the calling thread, or a few pieces ahead on a second thread
// from 4 MiB on), a mapping released behind, owned bytes. The chunks must tile
// the payload in order whatever its size; the whole file's SHA-256 must be
// OpenSSL's (EVP over the bytes at once); a failing reader or consumer ends
// the walk with its error.
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
#include "libcvm/core/payload_chunks.hpp"

namespace {

using cvm::ByteSpan;
using cvm::HashAlgorithm;

std::vector<std::uint8_t> pattern(std::size_t size) {
    std::vector<std::uint8_t> b(size);
    for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i * 151 + (i >> 11) * 5 + 1);
    return b;
}

std::string write_file(const std::string& name, const std::vector<std::uint8_t>& data) {
    std::string path = testing::TempDir() + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    EXPECT_TRUE(f);
    if (!f) return path;
    EXPECT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
    std::fclose(f);
    return path;
}

std::string openssl_sha256(const std::vector<std::uint8_t>& data) {
    std::uint8_t out[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(data.data(), data.size(), out, &n, EVP_sha256(), nullptr);
    return cvm::to_hex(ByteSpan(out, n));
}

// The chunks a walk hands over, checked to tile the payload in order.
std::vector<std::uint8_t> collect(const cvm::Payload& payload, std::size_t chunk) {
    std::vector<std::uint8_t> seen;
    cvm::for_each_chunk(payload, chunk, [&](std::size_t at, ByteSpan bytes) {
        EXPECT_EQ(at, seen.size()) << "chunks out of order";
        EXPECT_LE(bytes.size(), chunk);
        seen.insert(seen.end(), bytes.begin(), bytes.end());
    });
    return seen;
}

TEST(PayloadChunks, EveryKindOfPayloadTilesInOrder) {
    for (std::size_t size : {1ul, 4095ul, 65536ul, 3 * 65536ul + 17}) {
        auto data = pattern(size);
        std::string path = write_file("chunks-" + std::to_string(size), data);
        auto streamed = cvm::Payload::open_file(path);
        auto mapped = cvm::Payload::map_file(path);
        auto owned = cvm::Payload::from_bytes(data, "owned");
        for (const auto* p : {&streamed, &mapped, &owned}) EXPECT_EQ(collect(*p, 65536), data) << "size " << size;
        EXPECT_TRUE(streamed.streams()) << "the walk copied a streaming payload whole";
        std::remove(path.c_str());
    }
}

TEST(PayloadChunks, AStreamedFilesHashIsOpenSsls) {
    // Over the 4 MiB chunk of hash(): several chunks and a partial one.
    auto data = pattern(3 * (4u << 20) + 12345);
    std::string path = write_file("chunks-hash", data);
    auto streamed = cvm::Payload::open_file(path);
    EXPECT_EQ(cvm::hash(HashAlgorithm::sha256, streamed).hex(), openssl_sha256(data));
    EXPECT_TRUE(streamed.streams());
    std::remove(path.c_str());
}

TEST(PayloadChunks, AShrunkFileEndsTheWalkWithItsName) {
    // Read on the calling thread (1 MiB) and by the read-ahead thread (8 MiB).
    for (std::size_t size : {16 * 65536ul, 128 * 65536ul}) {
        auto data = pattern(size);
        std::string path = write_file("chunks-shrunk", data);
        auto streamed = cvm::Payload::open_file(path);
        ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size / 2 + 5)), 0);
        std::size_t seen = 0;
        try {
            cvm::for_each_chunk(streamed, 65536, [&](std::size_t, ByteSpan) { ++seen; });
            ADD_FAILURE() << "a shrunk file walked without an error";
        } catch (const cvm::Error& e) {
            EXPECT_NE(std::string(e.what()).find("chunks-shrunk"), std::string::npos) << e.what();
        }
        EXPECT_LE(seen, size / 2 / 65536) << size;
        std::remove(path.c_str());
    }
}

TEST(PayloadChunks, AnExceptionFromTheConsumerStopsTheReader) {
    for (std::size_t size : {16 * 65536ul, 128 * 65536ul}) {
        auto data = pattern(size);
        std::string path = write_file("chunks-stop", data);
        auto streamed = cvm::Payload::open_file(path);
        std::size_t seen = 0;
        EXPECT_THROW(cvm::for_each_chunk(streamed, 65536,
                                         [&](std::size_t, ByteSpan) {
                                             if (++seen == 3) throw std::runtime_error("stop");
                                         }),
                     std::runtime_error);
        EXPECT_EQ(seen, 3u) << size;
        std::remove(path.c_str());
    }
    EXPECT_THROW(cvm::for_each_chunk(cvm::Payload::from_bytes({1}, "one"), 0, [](std::size_t, ByteSpan) {}), cvm::Error);
}

TEST(PayloadChunks, ALargeStreamedFileTilesInOrderThroughTheReadAhead) {
    auto data = pattern(5 * (1u << 20) + 4096 * 3 + 7);
    std::string path = write_file("chunks-ahead", data);
    auto streamed = cvm::Payload::open_file(path);
    EXPECT_EQ(collect(streamed, 4u << 20), data);
    std::remove(path.c_str());
}

TEST(PayloadChunks, APayloadIsHashedOncePerAlgorithm) {
    // hash() remembers a view's digest: after the file changes under an
    // open_file payload, the same view and algorithm give the first result
    // without reading, while another algorithm or another slice reads (and
    // sees the new bytes).
    auto data = pattern(3 * 65536);
    std::string path = write_file("chunks-memo", data);
    auto streamed = cvm::Payload::open_file(path);
    const std::string first = cvm::hash(HashAlgorithm::sha256, streamed).hex();
    EXPECT_EQ(first, openssl_sha256(data));
    auto changed = data;
    for (auto& b : changed) b ^= 0xff;
    write_file("chunks-memo", changed);
    EXPECT_EQ(cvm::hash(HashAlgorithm::sha256, streamed).hex(), first) << "the payload was read again";
    EXPECT_EQ(cvm::hash(HashAlgorithm::sha256, streamed.slice(0, 65536)).hex(),
              openssl_sha256(std::vector<std::uint8_t>(changed.begin(), changed.begin() + 65536)));
    EXPECT_NE(cvm::hash(HashAlgorithm::sha384, streamed).hex(), cvm::hash(HashAlgorithm::sha384, ByteSpan(data)).hex());
    std::remove(path.c_str());
}

TEST(PayloadChunks, EveryBankOfALogFromOnePass) {
    auto data = pattern(5 * (1u << 20) + 333);
    std::string path = write_file("chunks-banks", data);
    auto streamed = cvm::Payload::open_file(path);
    auto digests = cvm::hash({HashAlgorithm::sha512, HashAlgorithm::sha256, HashAlgorithm::sha384}, streamed);
    ASSERT_EQ(digests.size(), 3u);
    const EVP_MD* mds[] = {EVP_sha512(), EVP_sha256(), EVP_sha384()};
    for (std::size_t i = 0; i < 3; ++i) {
        std::uint8_t out[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        EVP_Digest(data.data(), data.size(), out, &n, mds[i], nullptr);
        EXPECT_EQ(digests[i].hex(), cvm::to_hex(ByteSpan(out, n))) << i;
    }
    // Remembered: the single-algorithm call returns the same without a read.
    ASSERT_EQ(::truncate(path.c_str(), 0), 0);
    EXPECT_EQ(cvm::hash(HashAlgorithm::sha384, streamed), digests[2]);
    std::remove(path.c_str());
}

} // namespace
