// The TCG event log: writer bytes against the published reference log,
// the reader's rules on malformed logs (each error located at the exact
// offset), replay against independent PCR computations, and verification of
// plain launch logs. Expected digests are computed here with OpenSSL's
// one-shot functions, independently of libcvm's hashing code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <openssl/sha.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"
#include "synthetic_images.hpp"
#include "test_paths.hpp"

using namespace cvm;
using namespace cvm::eventlog;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes unhex(const std::string& hex) { return from_hex(hex, "test"); }
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes sha256(ByteSpan b) {
    Bytes out(32);
    SHA256(b.data(), b.size(), out.data());
    return out;
}
Bytes sha384(ByteSpan b) {
    Bytes out(48);
    SHA384(b.data(), b.size(), out.data());
    return out;
}
Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// docs/event-log.md §3.1: a one-bank log with two EV_POST_CODE events in PCR
// 0, made and checked with Debian 12's tpm2_eventlog.
const char* kReferenceLog =
    "0000000003000000000000000000000000000000000000000000000021000000"
    "53706563204944204576656e743033000000000000020002010000000b002000"
    "000000000001000000010000000b0083ce10cd83d43379460a6b7243a098ce54"
    "eb5fb15dc53028aa5b886edd26837209000000504f535420434f444500000000"
    "01000000010000000b00de5d091a980bcb20913d680a1d634f9ccc1bc066b1eb"
    "cafe9cde48dde226a08c1000000000000080000000000010000000000000";
const char* kReferencePcr0 = "3d4ec8e9532a966ac63fe869ae880c22e18f053fafe31c3a20fb34f50e700ca7";
constexpr std::size_t kEvent1 = 32 + 33;                     // after the Spec ID header
constexpr std::size_t kEvent2 = kEvent1 + 12 + 2 + 32 + 4 + 9;  // after "POST CODE"

PlanEvent post_code(const std::string& blob, Bytes data) {
    PlanEvent e;
    e.description = blob;
    e.pcr_index = 0;
    e.event_type = EV_POST_CODE;
    e.event_data = std::move(data);
    e.measured = Payload::from_bytes(text(blob), blob);
    return e;
}

std::vector<PlanEvent> reference_events() {
    Bytes blob(16, 0);
    blob[3] = 0x80;   // BlobBase 0x80000000
    blob[9] = 0x10;   // BlobLength 0x1000
    return {post_code("firmware-blob-1", text("POST CODE")), post_code("firmware-blob-2", blob)};
}

// The error `bytes` raise, with its offset; fails the test if none.
Error read_error(const Bytes& bytes, ReadOptions options = {}) {
    try {
        read_log(bytes, "test.log", options);
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "the log was accepted";
    return Error("accepted");
}

void expect_error_at(const Bytes& bytes, std::uint64_t offset, const std::string& needle, ReadOptions options = {}) {
    Error e = read_error(bytes, options);
    ASSERT_TRUE(e.offset().has_value()) << e.what();
    EXPECT_EQ(*e.offset(), offset) << e.what();
    EXPECT_EQ(e.where(), "test.log");
    EXPECT_NE(std::string(e.what()).find(fmt::format("offset {:#x}", offset)), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
}

void put32(Bytes& b, std::size_t at, std::uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void put16(Bytes& b, std::size_t at, std::uint16_t v) { std::memcpy(b.data() + at, &v, 2); }

TEST(EventLogWriter, ReproducesTheReferenceLogByteForByte) {
    Bytes written = write_log(reference_events(), WriteOptions{{HashAlgorithm::sha256}, ""});
    EXPECT_EQ(to_hex(written), kReferenceLog);
}

TEST(EventLogWriter, SeveralBanksDigestTheSameBytesInDeclaredOrder) {
    Bytes written = write_log(reference_events(), WriteOptions{{HashAlgorithm::sha384, HashAlgorithm::sha256}, "v"});
    // Spec ID: two algorithms (sha384 first), then vendorInfo "v".
    EXPECT_EQ(to_hex(ByteSpan(written).subspan(28, 4)), "26000000");  // eventDataSize 16+4+4+4+8+1+1
    EXPECT_EQ(to_hex(ByteSpan(written).subspan(56, 4)), "02000000");
    EXPECT_EQ(to_hex(ByteSpan(written).subspan(60, 8)), "0c0030000b002000");
    EXPECT_EQ(written[68], 1);
    EXPECT_EQ(written[69], 'v');
    std::size_t e = 70;
    EXPECT_EQ(to_hex(ByteSpan(written).subspan(e + 8, 4)), "02000000");
    EXPECT_EQ(to_hex(ByteSpan(written).subspan(e + 12, 2)), "0c00");
    EXPECT_EQ(to_hex(ByteSpan(written).subspan(e + 14, 48)), to_hex(sha384(text("firmware-blob-1"))));
    EXPECT_EQ(to_hex(ByteSpan(written).subspan(e + 62, 2)), "0b00");
    EXPECT_EQ(to_hex(ByteSpan(written).subspan(e + 64, 32)), to_hex(sha256(text("firmware-blob-1"))));
}

TEST(EventLogWriter, NoActionAndInformationalEvents) {
    PlanEvent no_action;
    no_action.event_type = EV_NO_ACTION;
    no_action.event_data = text("hello");
    PlanEvent info;
    info.event_type = EV_EVENT_TAG;
    Bytes log = write_log({no_action, info}, WriteOptions{{HashAlgorithm::sha256}, ""});
    std::size_t e = 65;
    EXPECT_EQ(to_hex(ByteSpan(log).subspan(e, 14)), "000000000300000001000000" "0b00");
    EXPECT_EQ(to_hex(ByteSpan(log).subspan(e + 14, 32)), std::string(64, '0'));
    std::size_t i = e + 14 + 32 + 4 + 5;
    EXPECT_EQ(to_hex(ByteSpan(log).subspan(i)), "00000000" "06000000" "00000000" "00000000");  // count 0, size 0

    PlanEvent bad = post_code("x", {});
    bad.event_type = EV_NO_ACTION;
    EXPECT_THROW(write_log({bad}, {}), Error);
    PlanEvent high = post_code("x", {});
    high.pcr_index = 24;
    EXPECT_THROW(write_log({high}, {}), Error);
    EXPECT_THROW(write_log({PlanEvent{}}, {}), Error);  // a backend that left the record empty
    EXPECT_THROW(write_log({}, WriteOptions{{}, ""}), Error);
    EXPECT_THROW(write_log({}, WriteOptions{{HashAlgorithm::sha256, HashAlgorithm::sha256}, ""}), Error);
}

TEST(EventLogReader, ReadsAndReplaysTheReferenceLog) {
    Bytes bytes = unhex(kReferenceLog);
    Log log = read_log(bytes, "ref.log");
    EXPECT_EQ(log.spec_id.spec_errata, 0);
    EXPECT_EQ(log.spec_id.uintn_size, 2);
    ASSERT_EQ(log.spec_id.algorithms.size(), 1u);
    EXPECT_EQ(log.spec_id.algorithms[0].algorithm, TPM_ALG_SHA256);
    ASSERT_EQ(log.events.size(), 2u);
    EXPECT_EQ(log.events[0].offset, kEvent1);
    EXPECT_EQ(log.events[1].offset, kEvent2);
    EXPECT_EQ(log.events[0].type, EV_POST_CODE);
    EXPECT_EQ(log.events[0].data, text("POST CODE"));
    EXPECT_EQ(log.used_size, bytes.size());
    auto pcrs = replay(log, "ref.log");
    EXPECT_EQ(to_hex(pcrs.banks.at(TPM_ALG_SHA256).at(0)), kReferencePcr0);
    // The same value from the documented formula.
    Bytes pcr(32, 0);
    pcr = sha256(concat(pcr, sha256(text("firmware-blob-1"))));
    pcr = sha256(concat(pcr, sha256(text("firmware-blob-2"))));
    EXPECT_EQ(to_hex(pcr), kReferencePcr0);
}

TEST(EventLogReader, StartupLocalitySetsTheInitialPcr0) {
    Bytes ref = unhex(kReferenceLog);
    Bytes locality = unhex("00000000" "03000000" "01000000" "0b00");
    locality.resize(locality.size() + 32, 0);
    Bytes data = concat(text(std::string("StartupLocality") + '\0'), {3});
    Bytes size(4, 0);
    size[0] = static_cast<std::uint8_t>(data.size());
    locality = concat(concat(locality, size), data);
    Bytes log_bytes(ref.begin(), ref.begin() + kEvent1);
    log_bytes = concat(concat(log_bytes, locality), Bytes(ref.begin() + kEvent1, ref.end()));
    Log log = read_log(log_bytes, "loc.log");
    // docs/event-log.md §3.2: the correct replay of this log.
    EXPECT_EQ(to_hex(replay(log, "loc.log").banks.at(TPM_ALG_SHA256).at(0)),
              "e8e5729ca4e0ceec8bb45329be4c75e723c507a2e2ac18a6e2a1bd28c1c1b31a");
}

TEST(EventLogReader, RejectsMalformedHeadersAtTheirOffset) {
    const Bytes ref = unhex(kReferenceLog);
    auto with = [&](auto change) { Bytes b = ref; change(b); return b; };
    expect_error_at(Bytes{}, 0, "empty");
    expect_error_at(with([](Bytes& b) { put32(b, 0, 1); }), 0, "pcrIndex");
    expect_error_at(with([](Bytes& b) { put32(b, 4, EV_POST_CODE); }), 4, "EV_NO_ACTION");
    expect_error_at(with([](Bytes& b) { b[20] = 1; }), 8, "zero");
    expect_error_at(with([](Bytes& b) { b[32 + 14] = '2'; }), 32, "Spec ID Event03");
    expect_error_at(with([](Bytes& b) { put32(b, 56, 0); }), 56, "numberOfAlgorithms");
    expect_error_at(with([](Bytes& b) { put16(b, 62, 20); }), 62, "digestSize");
    expect_error_at(with([](Bytes& b) { b[55] = 7; }), 55, "uintnSize");
    expect_error_at(with([](Bytes& b) { b[52] = 1; }), 52, "spec version");
    expect_error_at(with([](Bytes& b) { put32(b, 48, 2); }), 48, "platformClass");
    expect_error_at(with([](Bytes& b) { put16(b, 60, TPM_ALG_SHA384); }), 62, "digestSize of sha384");
    expect_error_at(with([](Bytes& b) { put32(b, 28, 33 + 4); }), 64, "vendorInfoSize");
    expect_error_at(with([](Bytes& b) { put32(b, 28, 33 - 4); }), 28, "eventDataSize");
    expect_error_at(with([](Bytes& b) { put32(b, 28, 0x10000); }), 28, "eventDataSize");
}

TEST(EventLogReader, RejectsMalformedEventsAtTheirOffset) {
    const Bytes ref = unhex(kReferenceLog);
    auto with = [&](auto change) { Bytes b = ref; change(b); return b; };
    // An algorithm the header does not declare (SHA-384).
    expect_error_at(with([](Bytes& b) { put16(b, kEvent1 + 12, TPM_ALG_SHA384); }), kEvent1 + 12, "declares (sha256)");
    // More digests than banks.
    expect_error_at(with([](Bytes& b) { put32(b, kEvent1 + 8, 2); }), kEvent1 + 8, "numberOfAlgorithms");
    // eventSize beyond the end.
    expect_error_at(with([](Bytes& b) { put32(b, kEvent2 + 46, 17); }), kEvent2 + 46, "eventSize");
    // PCR out of range.
    expect_error_at(with([](Bytes& b) { put32(b, kEvent2, 24); }), kEvent2, "pcrIndex");
    // Trailing garbage, and a zero tail the caller did not announce.
    expect_error_at(concat(ref, {1, 2, 3}), ref.size(), "3 trailing bytes");
    expect_error_at(concat(ref, Bytes(12, 0)), ref.size(), "padded");
    expect_error_at(concat(ref, Bytes(20, 0x00)), ref.size(), "padded");
    // A non-zero EV_NO_ACTION digest.
    Bytes no_action = with([](Bytes& b) { put32(b, kEvent1 + 4, EV_NO_ACTION); });
    expect_error_at(no_action, kEvent1 + 14, "never extended");
}

TEST(EventLogReader, EveryTruncationIsRejectedWithItsOffset) {
    const Bytes ref = unhex(kReferenceLog);
    for (std::size_t n = 0; n < ref.size(); ++n) {
        if (n == kEvent1 || n == kEvent2) continue;  // whole events: a shorter valid log
        Bytes cut(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(n));
        Error e = read_error(cut);
        ASSERT_TRUE(e.offset().has_value()) << n << ": " << e.what();
        EXPECT_LE(*e.offset(), n) << e.what();
        EXPECT_NE(std::string(e.what()).find("offset 0x"), std::string::npos);
    }
    EXPECT_EQ(read_log(Bytes(ref.begin(), ref.begin() + kEvent2), "t").events.size(), 1u);
}

TEST(EventLogReader, PaddedBufferEndsAtTheZeroTail) {
    Bytes padded = unhex(kReferenceLog);
    std::size_t used = padded.size();
    padded.resize(4096, 0);
    Log log = read_log(padded, "p.log", {true});
    EXPECT_EQ(log.events.size(), 2u);
    EXPECT_EQ(log.used_size, used);
    // Garbage after zeros in a padded buffer is still garbage.
    padded[4000] = 1;
    Error e = read_error(padded, {true});
    ASSERT_TRUE(e.offset().has_value());
    EXPECT_EQ(*e.offset(), used) << e.what();
    EXPECT_NE(std::string(e.what()).find("non-zero bytes after it"), std::string::npos) << e.what();
}

// ---- Plain launch logs ------------------------------------------------------

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char pattern[] = "/tmp/cvm-eventlog-test-XXXXXX";
        path = mkdtemp(pattern);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const Bytes& bytes) const {
        std::string file = (path / name).string();
        std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                    static_cast<std::streamsize>(bytes.size()));
        return file;
    }
};

struct PlainLaunch {
    TempDir dir;
    std::string kernel, initrd, sums;
    LaunchPlan plan{"plain", HashAlgorithm::sha256};
    Measurement predicted;

    explicit PlainLaunch(Bytes initrd_bytes = Bytes(5000, 0x5a)) {
        Bytes bz = cvmtest::synthetic_bzimage(8192);
        kernel = dir.write("bzImage", bz);
        initrd = dir.write("initrd", initrd_bytes);
        Bytes good_initrd(5000, 0x5a);
        // The verifier's list, written the way sha256sum does.
        std::string list = to_hex(sha256(bz)) + "  " + kernel + "\n" + to_hex(sha256(good_initrd)) + "  " +
                           dir.write("initrd.good", good_initrd) + "\n";
        sums = dir.write("SHA256SUMS", text(list));
        VmSpec spec;
        spec.memory.size = 64ull << 20;
        spec.vcpus.count = 2;
        spec.cmdline = "console=ttyS0 root=/dev/vda";
        spec.images.push_back({ImageRole::kernel, Payload::map_file(kernel), true, {}});
        spec.images.push_back({ImageRole::initrd, Payload::map_file(initrd), true, {}});
        plan = find_backend("plain").build_plan(spec);
        predicted = find_backend("plain").predict(plan);
    }
    Bytes log(std::vector<HashAlgorithm> banks = {HashAlgorithm::sha256}) const {
        return write_log(find_backend("plain").events(plan), WriteOptions{banks, vendor_info_for("plain")});
    }
};

TEST(PlainEventLog, RoundTripsThroughTheReader) {
    PlainLaunch launch;
    auto events = find_backend("plain").events(launch.plan);
    for (auto banks : {std::vector{HashAlgorithm::sha256},
                       std::vector{HashAlgorithm::sha256, HashAlgorithm::sha384, HashAlgorithm::sha512}}) {
        Bytes bytes = launch.log(banks);
        Log log = read_log(bytes, "plain.log");
        EXPECT_EQ(std::string(log.spec_id.vendor_info.begin(), log.spec_id.vendor_info.end()), "libcvm:plain");
        ASSERT_EQ(log.events.size(), events.size());
        // One event per operation but the devices, which the loaded tables describe.
        const auto& ops = launch.plan.operations();
        ASSERT_EQ(log.events.size(), static_cast<std::size_t>(std::count_if(ops.begin(), ops.end(), [](const auto& o) {
                      return !std::holds_alternative<op::AddDevice>(o);
                  })));
        for (std::size_t i = 0; i < events.size(); ++i) {
            const Event& e = log.events[i];
            EXPECT_EQ(e.pcr_index, 0u);
            EXPECT_EQ(e.type, EV_EVENT_TAG);
            EXPECT_EQ(e.data, events[i].event_data);
            ASSERT_EQ(e.digests.size(), banks.size());
            // The operation encoding is the first tagged event's data.
            std::uint32_t size;
            std::memcpy(&size, e.data.data() + 4, 4);
            ByteSpan encoding(e.data.data() + 8, size);
            EXPECT_EQ(e.digest(TPM_ALG_SHA256)->bytes, sha256(encoding));
            if (banks.size() > 1) {
                EXPECT_EQ(e.digest(TPM_ALG_SHA384)->bytes, sha384(encoding));
            }
        }
        EXPECT_EQ(log.used_size, bytes.size());
    }
}

TEST(PlainEventLog, ReplayEqualsThePrediction) {
    PlainLaunch launch;
    Log log = read_log(launch.log({HashAlgorithm::sha512, HashAlgorithm::sha256}), "plain.log");
    EXPECT_EQ(to_hex(replay(log, "plain.log").banks.at(TPM_ALG_SHA256).at(0)), launch.predicted.value.hex());
    // And by hand: PCR extend over the digests as read.
    Bytes pcr(32, 0);
    for (const auto& e : log.events) pcr = sha256(concat(pcr, e.digest(TPM_ALG_SHA256)->bytes));
    EXPECT_EQ(to_hex(pcr), launch.predicted.value.hex());
}

TEST(PlainEventLog, VerifiesAgainstImagesAndTheExpectedMeasurement) {
    PlainLaunch launch;
    Bytes bytes = launch.log({HashAlgorithm::sha256, HashAlgorithm::sha384});
    ImageList images = ImageList::read(launch.sums);
    auto result = verify(read_log(bytes, "plain.log"), "plain.log", images, launch.predicted.value.bytes());
    EXPECT_TRUE(result.matches) << (result.failures.empty() ? "" : result.failures[0]);
    EXPECT_EQ(result.technology, "plain");
    ASSERT_TRUE(result.replayed);
    EXPECT_EQ(result.replayed->hex(), launch.predicted.value.hex());
    bool kernel_found = false;
    for (const auto& line : result.checked) kernel_found |= line.find("protected-mode part of") != std::string::npos;
    EXPECT_TRUE(kernel_found);

    Bytes wrong(launch.predicted.value.bytes().begin(), launch.predicted.value.bytes().end());
    wrong[0] ^= 1;
    auto mismatch = verify(read_log(bytes, "plain.log"), "plain.log", images, wrong);
    EXPECT_FALSE(mismatch.matches);
    ASSERT_EQ(mismatch.failures.size(), 1u);
    EXPECT_NE(mismatch.failures[0].find("not the expected"), std::string::npos);
}

TEST(PlainEventLog, AChangedImageFailsNamingItsEvent) {
    Bytes bad_initrd(5000, 0x5a);
    bad_initrd[1234] ^= 0x01;
    PlainLaunch launch(bad_initrd);
    Log log = read_log(launch.log(), "plain.log");
    auto result = verify(log, "plain.log", ImageList::read(launch.sums), launch.predicted.value.bytes());
    EXPECT_FALSE(result.matches);
    // The initrd is the last load-data before create-vcpus; devices are no events.
    std::size_t initrd_event = 0, events = 0;
    for (const auto& o : launch.plan.operations()) {
        if (std::holds_alternative<op::AddDevice>(o)) continue;
        if (std::holds_alternative<op::CreateVcpus>(o)) initrd_event = events;  // 1-based: the event before
        ++events;
    }
    ASSERT_FALSE(result.failures.empty());
    EXPECT_EQ(result.failures[0].rfind(fmt::format("event {} (offset {:#x})", initrd_event,
                                                   log.events[initrd_event - 1].offset), 0), 0u)
        << result.failures[0];
    EXPECT_NE(result.failures[0].find("not in the images list"), std::string::npos) << result.failures[0];
}

TEST(PlainEventLog, AVerifierImageThatDiffersFromItsListIsAnError) {
    PlainLaunch launch;
    launch.dir.write("initrd.good", Bytes(5000, 0x5b));
    EXPECT_THROW(ImageList::read(launch.sums), Error);
}

TEST(PlainEventLog, EveryFlippedByteInTheEventsFailsVerificationNamingTheEvent) {
    PlainLaunch launch;
    const Bytes good = launch.log({HashAlgorithm::sha256, HashAlgorithm::sha384});
    const std::uint64_t first_event = read_log(good, "plain.log").events.at(0).offset;
    ImageList images = ImageList::read(launch.sums);
    std::size_t named = 0, located = 0;
    // Every byte outside the large generated contents, and a sample inside
    // (a sparser one under emulation).
    const std::size_t sparse = cvmtest::under_emulation() ? 8 : 1;
    for (std::size_t i = first_event; i < good.size(); i += sparse * (i % 512 < 96 ? 1 : 61)) {
        Bytes bad = good;
        bad[i] ^= 0x10;
        try {
            Log log = read_log(bad, "plain.log");
            auto result = verify(log, "plain.log", images, launch.predicted.value.bytes());
            ASSERT_FALSE(result.matches) << "flip at " << i;
            ASSERT_FALSE(result.failures.empty());
            EXPECT_EQ(result.failures[0].rfind("event ", 0), 0u) << "flip at " << i << ": " << result.failures[0];
            ++named;
        } catch (const Error& e) {
            EXPECT_TRUE(e.offset().has_value()) << "flip at " << i << ": " << e.what();
            ++located;
        }
    }
    EXPECT_GT(named, 100u / sparse);
    EXPECT_GT(located, 10u / sparse);
}

TEST(PlainEventLog, RefusesLogsWithoutRules) {
    Log log = read_log(unhex(kReferenceLog), "ref.log");
    PlainLaunch launch;
    EXPECT_THROW(verify(log, "ref.log", ImageList::read(launch.sums), launch.predicted.value.bytes()), Error);
}

// Debian 12's tpm2_eventlog (tpm2-tools 5.4) as an outside framing check and,
// for logs without EV_NO_ACTION events after the header, a replay oracle.
std::string run_tpm2_eventlog(const std::string& file, int& status) {
    std::string command = "tpm2_eventlog '" + file + "' 2>&1";
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return out;
    char buffer[4096];
    std::size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    status = pclose(pipe);
    return out;
}

TEST(PlainEventLog, Tpm2EventlogParsesAndReplaysEveryLog) {
    const char* tool = "/usr/bin/tpm2_eventlog";
    if (access(tool, X_OK) != 0) GTEST_SKIP() << tool << " is absent (Debian package tpm2-tools): framing check skipped";
    PlainLaunch launch;
    for (auto banks : {std::vector{HashAlgorithm::sha256}, std::vector{HashAlgorithm::sha256, HashAlgorithm::sha384},
                       std::vector{HashAlgorithm::sha512, HashAlgorithm::sha256}}) {
        std::string file = launch.dir.write("plain.log", launch.log(banks));
        int status = -1;
        std::string out = run_tpm2_eventlog(file, status);
        ASSERT_EQ(status, 0) << out;
        const std::string pcr0 = "  sha256:\n    0  : 0x";
        auto at = out.find(pcr0);
        ASSERT_NE(at, std::string::npos) << out;
        EXPECT_EQ(out.substr(at + pcr0.size(), 64), launch.predicted.value.hex());
    }
    // The reference events through the writer, too.
    std::string file = launch.dir.write("ref.log", write_log(reference_events(), {}));
    int status = -1;
    std::string out = run_tpm2_eventlog(file, status);
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find(std::string("0x") + kReferencePcr0), std::string::npos) << out;
}

} // namespace
