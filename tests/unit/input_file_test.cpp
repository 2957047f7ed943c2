// The library's one input path (cvm::InputFile, Payload::map_file,
// read_input_file): what a hostile or careless caller can pass instead of a
// file is refused by name, without hanging, faulting or reading forever.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <functional>
#include <future>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"

using namespace cvm;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/cvm-input-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(InputFile, AFifoIsRefusedWithoutWaitingForAWriter) {
    TempDir dir;
    std::string fifo = dir.path + "/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto opened = std::async(std::launch::async, [&] { return error_of([&] { Payload::map_file(fifo); }); });
    if (opened.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        // The open blocks until a writer comes: be that writer so the test ends.
        int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (w >= 0) ::close(w);
        FAIL() << "opening a FIFO blocked";
    }
    auto text = opened.get();
    EXPECT_NE(text.find(fifo), std::string::npos) << text;
    EXPECT_NE(text.find("not a regular file"), std::string::npos) << text;
}

TEST(InputFile, DevicesAndDirectoriesAreRefusedByName) {
    EXPECT_NE(error_of([] { Payload::map_file("/dev/zero"); }).find("/dev/zero: not a regular file"), std::string::npos);
    EXPECT_NE(error_of([] { read_input_file("/dev/zero", 16); }).find("/dev/zero: not a regular file"), std::string::npos);
    EXPECT_NE(error_of([] { read_input_file("/tmp", 16); }).find("/tmp: a directory"), std::string::npos);
    EXPECT_NE(error_of([] { read_input_file("/nonexistent/x", 16); }).find("/nonexistent/x"), std::string::npos);
}

TEST(InputFile, SizeCapIsEnforcedBeforeReading) {
    TempDir dir;
    std::string path = dir.path + "/eleven";
    write_file(path, std::vector<std::uint8_t>(11, 'x'));
    auto text = error_of([&] { read_input_file(path, 10); });
    EXPECT_NE(text.find(path), std::string::npos) << text;
    EXPECT_NE(text.find("more than the limit of 10"), std::string::npos) << text;
    EXPECT_EQ(read_input_file(path, 11).size(), 11u);
}

TEST(InputFile, AMappedFileTruncatedLaterIsStillReadable) {
    // A plain file mapping faults (SIGBUS) on pages past the new end; the
    // payload must keep the bytes it was given.
    TempDir dir;
    std::string path = dir.path + "/kernel";
    std::vector<std::uint8_t> bytes(3 << 20);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 131 + (i >> 12));
    write_file(path, bytes);
    Payload payload = Payload::map_file(path);
    ASSERT_EQ(::truncate(path.c_str(), 0), 0);
    write_file(path, std::vector<std::uint8_t>(100, 0xee));  // and rewritten
    ASSERT_EQ(payload.size(), bytes.size());
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), payload.bytes().begin()));
    // Releasing and reading again brings back the same bytes, not zeros.
    payload.release(0, payload.size());
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), payload.bytes().begin()));
}

TEST(InputFile, AnOpenedFileStreamsUntilItsBytesAreAskedForThenIsSealed) {
    TempDir dir;
    std::string path = dir.path + "/initrd";
    std::vector<std::uint8_t> bytes(3 << 20);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 131 + (i >> 12));
    write_file(path, bytes);
    Payload payload = Payload::open_file(path);
    EXPECT_TRUE(payload.streams());
    EXPECT_EQ(payload.size(), bytes.size());
    // A slice reads its own range, from the file, without a copy.
    Payload part = payload.slice(4097, 10000);
    std::vector<std::uint8_t> got(100);
    part.read(5, got);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), bytes.begin() + 4102));
    EXPECT_TRUE(payload.streams());
    EXPECT_NE(error_of([&] { part.read(9950, got); }).find("outside 10000 bytes"), std::string::npos);
    // The whole view makes the sealed copy: later rewrites do not reach it.
    ByteSpan view = part.bytes();
    EXPECT_FALSE(payload.streams());
    ASSERT_EQ(::truncate(path.c_str(), 0), 0);
    write_file(path, std::vector<std::uint8_t>(100, 0xee));
    EXPECT_TRUE(std::equal(view.begin(), view.end(), bytes.begin() + 4097));
    payload.read(0, got);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), bytes.begin()));
}

TEST(InputFile, AStreamingReadOfATruncatedFileIsAnErrorNotAFault) {
    TempDir dir;
    std::string path = dir.path + "/initrd";
    write_file(path, std::vector<std::uint8_t>(1 << 20, 0x5a));
    Payload payload = Payload::open_file(path);
    ASSERT_EQ(::truncate(path.c_str(), 4096), 0);
    std::vector<std::uint8_t> chunk(8192);
    auto text = error_of([&] { payload.read(0, chunk); });
    EXPECT_NE(text.find(path), std::string::npos) << text;
    EXPECT_NE(text.find("the file shrank while it was read"), std::string::npos) << text;
    // Its digest is then an error too, never a digest of other bytes.
    EXPECT_THROW(cvm::hash(HashAlgorithm::sha256, payload), Error);
}

TEST(InputFile, BlockingModeIsRestoredForTheReader) {
    TempDir dir;
    std::string path = dir.path + "/f";
    write_file(path, {1, 2, 3});
    InputFile file(path, 100);
    EXPECT_EQ(::fcntl(file.fd(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_EQ(file.size(), 3u);
}

} // namespace
