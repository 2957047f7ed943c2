// Event logs of the confidential backends: every backend's log round-trips
// through the reader and replays to exactly its predictor's measurement;
// changed images and flipped bytes fail naming an event; QEMU Arm CCA RFC
// logs (hand-built here from the RFC's layout) are read with their quirks
// and replayed. Image digests in the lists are computed with OpenSSL's
// one-shot functions, not libcvm's hashing.
#include <gtest/gtest.h>

#include <algorithm>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <openssl/sha.h>

#include <fmt/format.h>

#include "../riscv-cove/cove_images.hpp"
#include "backends/arm-cca/cca_log.hpp"
#include "backends/arm-cca/rim.hpp"
#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"
#include "libcvm/eventlog/software_log.hpp"
#include "synthetic_images.hpp"
#include "test_files.hpp"
#include "test_paths.hpp"

using namespace cvm;
using namespace cvm::eventlog;

namespace {

using Bytes = std::vector<std::uint8_t>;

std::string hex256(ByteSpan b) {
    Bytes out(32);
    SHA256(b.data(), b.size(), out.data());
    return to_hex(out);
}
std::string hex512(ByteSpan b) {
    Bytes out(64);
    SHA512(b.data(), b.size(), out.data());
    return to_hex(out);
}

using cvmtest::read_file;

// A scratch directory with the verifier's files and its images list.
class Scratch {
public:
    Scratch() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "cvm-evlog-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
        dir_ = tmpl;
    }
    ~Scratch() { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, ByteSpan bytes) {
        std::string path = dir_ + "/" + name;
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                    static_cast<std::streamsize>(bytes.size()));
        return path;
    }
    // sha256sum and sha512sum lines for every file, as one list.
    std::string sums(const std::vector<std::string>& files) {
        std::string text;
        for (const auto& f : files) {
            Bytes b = read_file(f);
            text += fmt::format("{}  {}\n{}  {}\n", hex256(b), f, hex512(b), f);
        }
        Bytes bytes(text.begin(), text.end());
        return write("SUMS", bytes);
    }
    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
};

Bytes write_plan_log(const LaunchPlan& plan, std::vector<HashAlgorithm> banks) {
    WriteOptions options;
    options.banks = std::move(banks);
    options.vendor_info = vendor_info_for(plan.technology());
    return write_log(find_backend(plan.technology()).events(plan), options);
}

Verification verify_bytes(ByteSpan log_bytes, const std::string& sums, ByteSpan expected, bool padded = false) {
    Log log = read_log(log_bytes, "test.log", {padded});
    return verify(log, "test.log", ImageList::read(sums), expected);
}

std::string joined(const Verification& v) {
    std::string out;
    for (const auto& f : v.failures) out += f + "\n";
    return out;
}

// Writes every measured load libcvm generated (the DTB), as a verifier gets
// it from `cvm-launch measure --event-log-data`.
std::vector<std::string> generated_files(Scratch& s, const LaunchPlan& plan) {
    std::vector<std::string> files;
    unsigned n = 0;
    for (const auto& operation : plan.operations())
        if (const auto* load = std::get_if<op::LoadData>(&operation); load && load->measured && !load->data.is_file())
            files.push_back(s.write(fmt::format("generated-{}", n++), load->data.bytes()));
    return files;
}

// The offsets of every event's bytes after the header, except the data of
// EV_NO_ACTION events (VM VERSION is recorded, never measured).
std::vector<std::size_t> measured_offsets(ByteSpan bytes) {
    Log log = read_log(bytes, "x");
    std::vector<std::size_t> out;
    for (const auto& e : log.events) {
        std::size_t end = e.data_offset + e.data.size();
        for (std::size_t i = e.offset; i < end; ++i)
            if (!(e.type == EV_NO_ACTION && i >= e.data_offset)) out.push_back(i);
    }
    return out;
}

// Each flip is either a located read error or a failed verification whose
// message names an event.
void expect_every_flip_caught(const Bytes& log, const std::string& sums, ByteSpan expected, std::size_t stride) {
    auto offsets = measured_offsets(log);
    ASSERT_FALSE(offsets.empty());
    if (cvmtest::under_emulation()) stride *= 8;
    for (std::size_t k = 0; k < offsets.size(); k += stride) {
        std::size_t i = offsets[k];
        Bytes flipped = log;
        flipped[i] ^= 0x01;
        try {
            auto v = verify_bytes(flipped, sums, expected);
            EXPECT_FALSE(v.matches) << "flipping byte " << i << " was not noticed";
            EXPECT_NE(joined(v).find("event "), std::string::npos) << "byte " << i << ": " << joined(v);
        } catch (const Error& error) {
            EXPECT_NE(std::string(error.what()).find("test.log: offset 0x"), std::string::npos) << error.what();
        }
    }
}

// ---- Arm CCA -----------------------------------------------------------------

struct CcaInputs {
    Scratch scratch;
    std::string kernel, initrd, firmware;
    CcaInputs() {
        kernel = scratch.write("Image", cvmtest::synthetic_arm64_image());
        initrd = scratch.write("initrd", read_file(cvmtest::vector_path("cca/initrd-14B")));
        firmware = scratch.write("firmware", read_file(cvmtest::vector_path("cca/firmware")));
    }
};

LaunchPlan cca_plan(const CcaInputs& in, const std::string& layout, const std::string& rmm, const std::string& hash,
                    bool firmware = false) {
    VmSpec spec;
    spec.technology = "arm-cca";
    spec.memory.size = 512ull << 20;
    spec.vcpus.count = 2;
    spec.cmdline = "console=hvc0";
    if (firmware) {
        spec.images.push_back({ImageRole::firmware, Payload::map_file(in.firmware), true, {}});
    } else {
        spec.images.push_back({ImageRole::kernel, Payload::map_file(in.kernel), true, {}});
        spec.images.push_back({ImageRole::initrd, Payload::map_file(in.initrd), true, {}});
    }
    spec.options = {{"layout", layout}, {"rmm", rmm}, {"hash", hash}};
    return find_backend("arm-cca").build_plan(spec);
}

TEST(CcaLog, EveryLayoutRmmAndHashReplaysToThePrediction) {
    CcaInputs in;
    for (std::string layout : {"libcvm", "kvmtool", "qemu"})
        for (std::string rmm : {"1.0", "2.0"})
            for (std::string h : {"sha256", "sha512"}) {
                SCOPED_TRACE(layout + " " + rmm + " " + h);
                LaunchPlan plan = cca_plan(in, layout, rmm, h);
                Measurement m = find_backend("arm-cca").predict(plan);
                auto events = find_backend("arm-cca").events(plan);
                EXPECT_EQ(events.back().digest.hex(), m.value.hex()) << "the last event's RIM is the prediction";
                auto files = generated_files(in.scratch, plan);
                files.push_back(in.kernel);
                files.push_back(in.initrd);
                std::string sums = in.scratch.sums(files);
                for (auto banks : {std::vector<HashAlgorithm>{plan.algorithm()},
                                   std::vector<HashAlgorithm>{HashAlgorithm::sha256, HashAlgorithm::sha384,
                                                              HashAlgorithm::sha512}}) {
                    Bytes log = write_plan_log(plan, banks);
                    Log parsed = read_log(log, "test.log");
                    EXPECT_EQ(parsed.events.size(), events.size());
                    EXPECT_EQ(parsed.used_size, log.size());
                    auto v = verify_bytes(log, sums, m.value.bytes());
                    EXPECT_TRUE(v.matches) << joined(v);
                    ASSERT_TRUE(v.replayed);
                    EXPECT_EQ(v.replayed->hex(), m.value.hex());
                    EXPECT_EQ(v.technology, "arm-cca");
                }
            }
}

TEST(CcaLog, TheEventSequenceIsTheRfcs) {
    CcaInputs in;
    LaunchPlan plan = cca_plan(in, "kvmtool", "1.0", "sha256");
    Log log = read_log(write_plan_log(plan, {HashAlgorithm::sha256}), "test.log");
    ASSERT_EQ(log.events.size(), 7u);
    const std::uint32_t types[] = {EV_NO_ACTION, EV_EVENT_TAG, EV_EVENT_TAG, EV_POST_CODE2,
                                   EV_POST_CODE2, EV_POST_CODE2, EV_EVENT_TAG};
    for (std::size_t i = 0; i < 7; ++i) {
        EXPECT_EQ(log.events[i].type, types[i]) << i;
        EXPECT_EQ(log.events[i].pcr_index, 0u) << i;
    }
    auto vm = cca::log::decode_vm_version(log.events[0].data, "x", 0);
    EXPECT_EQ(log.events[0].data.size(), 112u);
    EXPECT_EQ(vm.name, "kvmtool");
    EXPECT_EQ(vm.ram_size, 512ull << 20);
    EXPECT_EQ(vm.num_cpus, 2u);
    EXPECT_EQ(Bytes(log.events[1].data.begin(), log.events[1].data.begin() + 8), (Bytes{1, 0, 0, 0, 16, 0, 0, 0}));
    EXPECT_EQ(Bytes(log.events[2].data.begin(), log.events[2].data.begin() + 8), (Bytes{2, 0, 0, 0, 16, 0, 0, 0}));
    EXPECT_EQ(Bytes(log.events[6].data.begin(), log.events[6].data.begin() + 8), (Bytes{3, 0, 0, 0, 80, 0, 0, 0}));
    const char* names[] = {"KERNEL", "INITRD", "DTB"};
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(cca::log::decode_blob2(log.events[3 + i].data, "x", 0).description, names[i]);
    // The kernel event's digest is the file's, which selects the image.
    EXPECT_EQ(to_hex(log.events[3].digests.at(0).bytes), hex256(read_file(in.kernel)));
}

TEST(CcaLog, Rmm2LogsHaveNoInitRipasAndFirmwareIsBlob2) {
    CcaInputs in;
    Log rmm2 = read_log(write_plan_log(cca_plan(in, "kvmtool", "2.0", "sha256"), {HashAlgorithm::sha256}), "t");
    for (const auto& e : rmm2.events)
        if (e.type == EV_EVENT_TAG) {
            EXPECT_NE(e.data[0], 2) << "INIT_RIPAS in an RMM 2.0 log";
        }
    LaunchPlan fw = cca_plan(in, "kvmtool", "1.0", "sha256", true);
    Log log = read_log(write_plan_log(fw, {HashAlgorithm::sha256}), "t");
    bool found = false;
    for (const auto& e : log.events)
        if (e.type == EV_EFI_PLATFORM_FIRMWARE_BLOB2) {
            EXPECT_EQ(cca::log::decode_blob2(e.data, "x", 0).description, "FIRMWARE");
            found = true;
        }
    EXPECT_TRUE(found);
    auto files = generated_files(in.scratch, fw);
    files.push_back(in.firmware);
    auto v = verify_bytes(write_plan_log(fw, {HashAlgorithm::sha256}), in.scratch.sums(files),
                          find_backend("arm-cca").predict(fw).value.bytes());
    EXPECT_TRUE(v.matches) << joined(v);
}

TEST(CcaLog, AChangedImageOrAFlippedByteNamesItsEvent) {
    CcaInputs in;
    LaunchPlan plan = cca_plan(in, "kvmtool", "1.0", "sha256");
    Measurement m = find_backend("arm-cca").predict(plan);
    auto files = generated_files(in.scratch, plan);
    files.push_back(in.kernel);
    std::string without_initrd = in.scratch.sums(files);
    Bytes log = write_plan_log(plan, {HashAlgorithm::sha256});
    auto v = verify_bytes(log, without_initrd, m.value.bytes());
    EXPECT_FALSE(v.matches);
    EXPECT_NE(joined(v).find("event 5 (offset"), std::string::npos) << joined(v);
    EXPECT_NE(joined(v).find("INITRD"), std::string::npos) << joined(v);

    files.push_back(in.initrd);
    std::string sums = in.scratch.sums(files);
    expect_every_flip_caught(log, sums, m.value.bytes(), 1);

    // A changed image file on the verifier's side no longer matches its line.
    Bytes other = read_file(in.initrd);
    other[0] ^= 1;
    in.scratch.write("initrd", other);
    EXPECT_THROW(ImageList::read(sums), Error);
}

// Vector K1 of the CCA vectors (kvmtool, 1 vCPU, 512 MiB, Debian's
// arm64 kernel): the log replays to the published RIM with the DTB that
// cca-realm-measurements generated standing in the verifier's list.
TEST(CcaLog, VectorK1ReplaysToThePublishedRim) {
    if (auto why = cvmtest::vector_missing("cca/Image-6.1.0-56-arm64"); !why.empty()) GTEST_SKIP() << why;
    const std::string image = cvmtest::vector_path("cca/Image-6.1.0-56-arm64");
    VmSpec spec;
    spec.technology = "arm-cca";
    spec.memory.size = 512ull << 20;
    spec.vcpus.count = 1;
    spec.images.push_back({ImageRole::kernel, Payload::map_file(image), true, {}});
    spec.options = {{"layout", "kvmtool"}, {"num-bps", "6"}, {"num-wps", "6"}};
    LaunchPlan plan = find_backend("arm-cca").build_plan(spec);
    Scratch s;
    std::string sums = s.sums({image, cvmtest::vector_path("cca/kvmtool-k.dtb")});
    Bytes expected = from_hex("7480937e6380978a586416e24bd9f0f1f1f9639086218b2a355727a69d459052", "K1");
    auto v = verify_bytes(write_plan_log(plan, {HashAlgorithm::sha256}), sums, expected);
    EXPECT_TRUE(v.matches) << joined(v);
}

// ---- QEMU Arm CCA RFC logs ------------------------------------------------------

struct RfcLog {
    Bytes bytes;
    void u16(std::uint16_t v) { for (int i = 0; i < 2; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
    void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
    void raw(ByteSpan b) { bytes.insert(bytes.end(), b.begin(), b.end()); }
    // The RFC's header: specErrata 106, one SHA-256 bank, no vendorInfo.
    explicit RfcLog(std::uint8_t errata = 106) {
        u32(0); u32(EV_NO_ACTION);
        bytes.insert(bytes.end(), 20, 0);
        u32(33);
        const char sig[16] = "Spec ID Event03";
        raw(ByteSpan(reinterpret_cast<const std::uint8_t*>(sig), 16));
        u32(0);
        bytes.push_back(0); bytes.push_back(2); bytes.push_back(errata); bytes.push_back(2);
        u32(1); u16(TPM_ALG_SHA256); u16(32);
        bytes.push_back(0);
    }
    // digest: "none" (count 0), "zero0" (alg 0 zero digest), or the hex digest.
    void event(std::uint32_t type, const Bytes& data, const std::string& digest) {
        u32(0); u32(type);
        if (digest == "none") {
            u32(0);
        } else {
            u32(1);
            u16(digest == "zero0" ? 0 : TPM_ALG_SHA256);
            raw(digest == "zero0" ? Bytes(32, 0) : from_hex(digest, "t"));
        }
        u32(static_cast<std::uint32_t>(data.size()));
        raw(data);
    }
};

TEST(QemuRfcLog, IsReadWithItsQuirksAndReplaysToTheRim) {
    CcaInputs in;
    Bytes kernel = read_file(in.kernel);
    const std::uint64_t ram = 0x40000000, ram_size = 0x40000000, kernel_at = ram, dtb_at = 0x48000000;
    const std::uint64_t log_at = dtb_at + 0x10000;
    Bytes dtb = read_file(cvmtest::vector_path("cca/qemu-k256.dtb"));
    std::string dtb_path = in.scratch.write("qemu.dtb", dtb);
    std::string sums = in.scratch.sums({in.kernel, dtb_path});
    namespace L = cca::log;

    for (std::string vm_digest : {"zero0", "data"}) {
        SCOPED_TRACE(vm_digest);
        RfcLog rfc;
        Bytes vm = L::encode_vm_version({"QEMU", "9.1", ram_size, 2, 0});
        rfc.event(EV_NO_ACTION, vm, vm_digest == "data" ? hex256(vm) : "zero0");
        rfc.event(EV_EVENT_TAG, L::encode_tagged(1, L::encode_realm_create({0, 41, 0, 5, 5, 0, 0})), "none");
        rfc.event(EV_EVENT_TAG, L::encode_tagged(2, L::encode_init_ripas({ram, ram_size})), "none");
        rfc.event(EV_POST_CODE2, L::encode_blob2({"KERNEL", kernel_at, kernel.size()}), hex256(kernel));
        rfc.event(EV_POST_CODE2, L::encode_blob2({"DTB", dtb_at, dtb.size()}), hex256(dtb));
        L::RecCreate rec{1, kernel_at, {dtb_at, 0, 0, 0, 0, 0, 0, 0}};
        rfc.event(EV_EVENT_TAG, L::encode_tagged(3, L::encode_rec_create(rec)), "none");
        rfc.event(EV_POST_CODE2, L::encode_blob2({"LOG", log_at, 0x10000}), "none");
        Bytes buffer = rfc.bytes;
        std::size_t used = buffer.size();
        buffer.resize(0x10000, 0);  // the RFC's 64 KiB region, its tail zero

        // The same steps through the RIM primitives.
        cca::RealmParams p;
        p.s2sz = 41;
        p.num_bps = 5;
        p.num_wps = 5;
        cca::Rim rim(p);
        for (auto [b, t] : cca::ripas_blocks(ram, ram + ram_size, 41)) rim.ripas(b, t);
        Bytes page(4096, 0);
        std::copy(kernel.begin(), kernel.end(), page.begin());
        rim.data_measured(kernel_at, page);
        for (std::size_t off = 0; off < dtb.size(); off += 4096)
            rim.data_measured(dtb_at + off, ByteSpan(dtb).subspan(off, std::min<std::size_t>(4096, dtb.size() - off)));
        rim.rec(rec.pc, rec.gprs);
        for (std::uint64_t g = log_at; g < log_at + 0x10000; g += 4096) rim.data_unmeasured(g);

        EXPECT_THROW(read_log(buffer, "rfc.log"), Error) << "a zero tail needs --padded";
        Log log = read_log(buffer, "rfc.log", {true});
        EXPECT_EQ(log.dialect, Dialect::qemu_cca_rfc);
        EXPECT_EQ(log.used_size, used);
        auto v = verify(log, "rfc.log", ImageList::read(sums), rim.value().bytes());
        EXPECT_TRUE(v.matches) << joined(v);
        EXPECT_EQ(v.technology, "arm-cca");
        EXPECT_NE(to_text(log, "rfc.log").find("VM VERSION \"QEMU\" \"9.1\""), std::string::npos);

        // The REC's pc is covered by no digest in an RFC log: a changed one
        // is a mismatch that names the events only the RIM checks.
        Bytes changed = rfc.bytes;
        changed[log.events[5].data_offset + 8 + 8] ^= 0x10;  // REC_CREATE pc, after the tag header and flags
        auto w = verify(read_log(changed, "rfc.log"), "rfc.log", ImageList::read(sums), rim.value().bytes());
        EXPECT_FALSE(w.matches);
        EXPECT_NE(joined(w).find("a tagged event without digest"), std::string::npos) << joined(w);
    }
}

TEST(QemuRfcLog, QuirksAreAcceptedOnlyInRfcLogs) {
    Bytes vm = cca::log::encode_vm_version({"QEMU", "9.1", 1 << 30, 1, 0});
    // hashAlg 0 in a log that is not the RFC's: an undeclared algorithm.
    RfcLog plain(0);
    std::size_t at = plain.bytes.size();
    plain.event(EV_NO_ACTION, vm, "zero0");
    try {
        read_log(plain.bytes, "t.log");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(fmt::format("t.log: offset {:#x}", at + 12)), std::string::npos) << e.what();
    }
    // A non-zero EV_NO_ACTION digest: only the hash of the data, only in RFC logs.
    RfcLog hashed(0);
    hashed.event(EV_NO_ACTION, vm, hex256(vm));
    EXPECT_THROW(read_log(hashed.bytes, "t.log"), Error);
    RfcLog wrong;
    at = wrong.bytes.size();
    Bytes other = vm;
    other[100] ^= 1;
    wrong.event(EV_NO_ACTION, vm, hex256(other));
    try {
        read_log(wrong.bytes, "t.log");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(fmt::format("t.log: offset {:#x}", at + 14)), std::string::npos) << e.what();
    }
}

TEST(CcaLogData, MalformedEventDataIsLocated) {
    namespace L = cca::log;
    auto expect_at = [](auto&& f, std::uint64_t offset, const char* what) {
        try {
            f();
            ADD_FAILURE() << what << " accepted";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(fmt::format("x.log: offset {:#x}", offset)), std::string::npos)
                << e.what();
            EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
        }
    };
    Bytes vm = L::encode_vm_version({"QEMU", "9.1", 1, 1, 0});
    vm.pop_back();
    expect_at([&] { L::decode_vm_version(vm, "x.log", 0x40); }, 0x40, "VM VERSION event data");
    Bytes tagged = L::encode_tagged(1, Bytes(16, 0));
    tagged[4] = 17;
    expect_at([&] { L::split_tagged(tagged, "x.log", 0x80); }, 0x84, "taggedEventDataSize");
    expect_at([&] { L::split_tagged(Bytes(7, 0), "x.log", 0x80); }, 0x80, "tagged event header");
    expect_at([&] { L::decode_realm_create(Bytes(14, 0), "x.log", 0x10); }, 0x10, "REALM_CREATE data");
    expect_at([&] { L::decode_init_ripas(Bytes(15, 0), "x.log", 0x10); }, 0x10, "INIT_RIPAS data");
    expect_at([&] { L::decode_rec_create(Bytes(79, 0), "x.log", 0x10); }, 0x10, "REC_CREATE data");
    Bytes blob = L::encode_blob2({"KERNEL", 0, 1});
    blob[0] = 7;
    expect_at([&] { L::decode_blob2(blob, "x.log", 0x20); }, 0x20, "UEFI_PLATFORM_FIRMWARE_BLOB2");
    expect_at([&] { L::decode_blob2(Bytes{}, "x.log", 0x20); }, 0x20, "BlobDescriptionSize");
}

TEST(CcaLogData, EventsOutsideTheModelFailNamingThem) {
    namespace L = cca::log;
    auto run = [](std::vector<std::pair<std::uint32_t, Bytes>> events) {
        RfcLog rfc;
        for (auto& [type, data] : events) rfc.event(type, data, "none");
        Log log = read_log(rfc.bytes, "t.log");
        Scratch s;
        Bytes empty;
        return verify(log, "t.log", ImageList::read(s.write("SUMS", empty)), Bytes(32, 0));
    };
    Bytes create = L::encode_tagged(1, L::encode_realm_create({0, 40, 0, 5, 5, 0, 0}));
    struct Case { Bytes data; std::string says; };
    std::vector<Case> cases = {
        {L::encode_tagged(1, L::encode_realm_create({1, 40, 0, 5, 5, 0, 0})), "flags 0x1"},
        {L::encode_tagged(1, L::encode_realm_create({0, 40, 0, 5, 5, 0, 2})), "hash_algo 2"},
        {L::encode_tagged(1, L::encode_realm_create({0, 52, 0, 5, 5, 0, 0})), "s2sz 52"},
        {L::encode_tagged(9, Bytes(4, 0)), "tagged event id 9"},
        {L::encode_tagged(3, L::encode_rec_create({0, 0, {}})), "REC_CREATE flags 0x0"},
        {L::encode_tagged(2, L::encode_init_ripas({0x1000, 0x20000000000})), "not inside the 40-bit IPA space"},
    };
    for (const auto& c : cases) {
        bool first_is_create = c.data[0] == 1;
        std::vector<std::pair<std::uint32_t, Bytes>> events;
        if (!first_is_create) events.push_back({EV_EVENT_TAG, create});
        events.push_back({EV_EVENT_TAG, c.data});
        auto v = run(events);
        EXPECT_FALSE(v.matches);
        std::string text = joined(v);
        EXPECT_NE(text.find(fmt::format("event {} (offset", events.size())), std::string::npos) << text;
        EXPECT_NE(text.find(c.says), std::string::npos) << text;
    }
    auto v = run({{EV_EVENT_TAG, create}, {EV_POST_CODE2, L::encode_blob2({"LOG", 0x10000000, 1ull << 30})}});
    EXPECT_NE(joined(v).find("unmeasured region over 256 MiB"), std::string::npos) << joined(v);
    v = run({{EV_EVENT_TAG, create}, {EV_POST_CODE, Bytes(16, 0)}});
    EXPECT_NE(joined(v).find("event 2 (offset"), std::string::npos) << joined(v);
}

// ---- AMD SEV, SEV-ES, SEV-SNP -----------------------------------------------------

LaunchPlan sev_plan(const std::string& tech, const std::string& kernel) {
    VmSpec spec;
    spec.technology = tech;
    spec.memory.size = 512ull << 20;
    spec.vcpus.count = 2;
    spec.cmdline = "console=ttyS0";
    spec.images.push_back({ImageRole::firmware, Payload::map_file(cvmtest::vector_path("sev/synthetic_fw.bin")), true, {}});
    spec.images.push_back({ImageRole::kernel, Payload::map_file(kernel), true, {}});
    spec.images.push_back({ImageRole::initrd, Payload::map_file(cvmtest::vector_path("sev/initrd.bin")), true, {}});
    return find_backend(tech).build_plan(spec);
}

TEST(SevLog, EveryModeReplaysToTheLaunchDigest) {
    Scratch s;
    std::string sums = s.sums({cvmtest::vector_path("sev/synthetic_fw.bin"), cvmtest::vector_path("sev/kernel.bin"),
                               cvmtest::vector_path("sev/initrd.bin")});
    Bytes changed_kernel = read_file(cvmtest::vector_path("sev/kernel.bin"));
    changed_kernel[changed_kernel.size() / 2] ^= 1;
    std::string other_kernel = s.write("kernel-changed", changed_kernel);
    for (std::string tech : {"amd-sev", "amd-sev-es", "amd-sev-snp"}) {
        SCOPED_TRACE(tech);
        LaunchPlan plan = sev_plan(tech, cvmtest::vector_path("sev/kernel.bin"));
        Measurement m = find_backend(tech).predict(plan);
        Bytes log = write_plan_log(plan, {HashAlgorithm::sha256, HashAlgorithm::sha384});
        Log parsed = read_log(log, "test.log");
        // One event per operation but the devices, which the firmware finds
        // itself, and one per file a device serves (fw_cfg's kernel, ...).
        std::size_t expected_events = 0;
        for (const auto& o : plan.operations()) {
            const auto* device = std::get_if<op::AddDevice>(&o);
            expected_events += device ? device->files.size() : 1;
        }
        EXPECT_EQ(parsed.events.size(), expected_events);
        auto v = verify_bytes(log, sums, m.value.bytes());
        EXPECT_TRUE(v.matches) << joined(v);
        ASSERT_TRUE(v.replayed);
        EXPECT_EQ(v.replayed->hex(), m.value.hex());
        EXPECT_EQ(v.technology, tech);

        // The VMM booted another kernel: the hashes table names it.
        LaunchPlan other = sev_plan(tech, other_kernel);
        auto w = verify_bytes(write_plan_log(other, {HashAlgorithm::sha256}), sums,
                              find_backend(tech).predict(other).value.bytes());
        EXPECT_FALSE(w.matches);
        EXPECT_NE(joined(w).find("kernel-hashes table: the kernel sha256"), std::string::npos) << joined(w);
        EXPECT_NE(joined(w).find("event "), std::string::npos) << joined(w);

        expect_every_flip_caught(log, sums, m.value.bytes(), 17);
    }
}

// ---- RISC-V CoVE -------------------------------------------------------------------

TEST(CoveLog, ReplaysPcr2Pcr3AndTheTci) {
    Scratch s;
    std::string kernel = s.write("Image", covetest::riscv_image());
    std::string initrd = s.write("initrd", covetest::pattern(10000, 3));
    VmSpec spec;
    spec.technology = "riscv-cove";
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = 2;
    spec.cmdline = "console=ttyS0";
    spec.images.push_back({ImageRole::kernel, Payload::map_file(kernel), true, {}});
    spec.images.push_back({ImageRole::initrd, Payload::map_file(initrd), true, {}});
    LaunchPlan plan = find_backend("riscv-cove").build_plan(spec);
    Measurement m = find_backend("riscv-cove").predict(plan);
    std::string sums = s.sums({kernel, initrd});
    Bytes log = write_plan_log(plan, {HashAlgorithm::sha384});
    auto v = verify_bytes(log, sums, m.value.bytes());
    EXPECT_TRUE(v.matches) << joined(v);
    ASSERT_TRUE(v.replayed);
    EXPECT_EQ(v.replayed->hex(), m.value.hex());
    ASSERT_EQ(v.registers.size(), m.registers.size());
    for (std::size_t i = 0; i < m.registers.size(); ++i) {
        EXPECT_EQ(v.registers[i].first, m.registers[i].name);
        EXPECT_EQ(v.registers[i].second.hex(), m.registers[i].value.hex());
    }
    expect_every_flip_caught(log, sums, m.value.bytes(), 5);
}


// ---- forged operation logs: work bounded by the verifier, not by the log ----

// The record of `e` in a log of events that follow one another.
struct Record {
    std::size_t begin, end;
};
Record record_of(const Log& log, std::size_t index) {
    const Event& e = log.events[index];
    return {static_cast<std::size_t>(e.offset), static_cast<std::size_t>(e.data_offset + e.data.size())};
}

TEST(SevLog, AForgedVcpuCountIsRefusedNamingItsEvent) {
    Scratch s;
    std::string sums = s.sums({cvmtest::vector_path("sev/synthetic_fw.bin"), cvmtest::vector_path("sev/kernel.bin"),
                               cvmtest::vector_path("sev/initrd.bin")});
    LaunchPlan plan = sev_plan("amd-sev-es", cvmtest::vector_path("sev/kernel.bin"));
    Bytes log = write_plan_log(plan, {HashAlgorithm::sha256});
    Log parsed = read_log(log, "test.log");
    bool patched = false;
    for (const Event& e : parsed.events) {
        auto parts = split_software_event_data(e.data, "test.log", e.data_offset);
        if (decode_software_operation(parts.encoding, "test.log", parts.encoding_offset).name != "create-vcpus") continue;
        // create-vcpus ends with its u32 count; the one bank's digest sits
        // right before eventSize and the data. Rewrite both consistently.
        std::size_t count_at = parts.encoding_offset + parts.encoding.size() - 4;
        const std::uint32_t forged = 1000;
        for (int i = 0; i < 4; ++i) log[count_at + i] = static_cast<std::uint8_t>(forged >> (8 * i));
        std::uint8_t digest[32];
        SHA256(log.data() + parts.encoding_offset, parts.encoding.size(), digest);
        std::copy(digest, digest + 32, log.begin() + static_cast<std::ptrdiff_t>(e.data_offset - 4 - 32));
        patched = true;
    }
    ASSERT_TRUE(patched);
    auto v = verify_bytes(log, sums, find_backend("amd-sev-es").predict(plan).value.bytes());
    EXPECT_FALSE(v.matches);
    EXPECT_NE(joined(v).find("1000 vCPUs, more than the 255 any libcvm launch creates"), std::string::npos)
        << joined(v);
}

TEST(SevLog, ForgedZeroLoadsShareOneHashingBudget) {
    // Copies of one SNP zero-section event, each unlisted data the verifier
    // recognises as zeros by hashing them: after 16 MiB in total, no more.
    Scratch s;
    std::string sums = s.sums({cvmtest::vector_path("sev/synthetic_fw.bin"), cvmtest::vector_path("sev/kernel.bin"),
                               cvmtest::vector_path("sev/initrd.bin")});
    LaunchPlan plan = sev_plan("amd-sev-snp", cvmtest::vector_path("sev/kernel.bin"));
    Bytes log = write_plan_log(plan, {HashAlgorithm::sha256});
    Log parsed = read_log(log, "test.log");
    std::optional<std::size_t> zero_event;
    std::uint64_t zero_size = 0;
    for (std::size_t i = 0; i < parsed.events.size() && !zero_event; ++i) {
        const Event& e = parsed.events[i];
        auto parts = split_software_event_data(e.data, "test.log", e.data_offset);
        auto op = decode_software_operation(parts.encoding, "test.log", parts.encoding_offset);
        if (op.name == "load-data" && op.page_type == "zero") zero_event = i, zero_size = op.size;
    }
    ASSERT_TRUE(zero_event) << "the SNP plan has no zero section";
    ASSERT_GT(zero_size, 0u);
    // The same operation without its content (small zero sections travel as
    // content): one bank, EV_EVENT_TAG in PCR 0, the encoding's digest, and
    // only the operation's tagged event as data, so the verifier must
    // recognise the bytes by their digest.
    const Event& e = parsed.events[*zero_event];
    auto parts = split_software_event_data(e.data, "test.log", e.data_offset);
    Bytes one;
    auto u32 = [&one](std::uint32_t v) { for (int i = 0; i < 4; ++i) one.push_back(static_cast<std::uint8_t>(v >> (8 * i))); };
    u32(0);
    u32(EV_EVENT_TAG);
    u32(1);
    one.push_back(0x0b);
    one.push_back(0x00);  // TPM_ALG_SHA256
    std::uint8_t digest[32];
    SHA256(parts.encoding.data(), parts.encoding.size(), digest);
    one.insert(one.end(), digest, digest + 32);
    u32(static_cast<std::uint32_t>(8 + parts.encoding.size()));
    u32(kOperationTag);
    u32(static_cast<std::uint32_t>(parts.encoding.size()));
    one.insert(one.end(), parts.encoding.begin(), parts.encoding.end());
    Record r = record_of(parsed, *zero_event);
    std::size_t copies = static_cast<std::size_t>((16ull << 20) / zero_size) + 2;
    Bytes forged(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(r.end));
    for (std::size_t i = 0; i < copies; ++i) forged.insert(forged.end(), one.begin(), one.end());
    forged.insert(forged.end(), log.begin() + static_cast<std::ptrdiff_t>(r.end), log.end());
    auto v = verify_bytes(forged, sums, find_backend("amd-sev-snp").predict(plan).value.bytes());
    EXPECT_FALSE(v.matches);
    EXPECT_NE(joined(v).find("is not in the images list"), std::string::npos) << joined(v).substr(0, 2000);
}


TEST(SevPlanner, VcpuCountIsBoundedForEveryMode) {
    // The C ABI and Python reach the planner with any count; it is the one
    // place that bounds it (one VMSA page per vCPU is built and measured).
    for (std::string tech : {"amd-sev", "amd-sev-es", "amd-sev-snp"}) {
        for (unsigned count : {0u, 256u, 100000u}) {
            VmSpec spec;
            spec.technology = tech;
            spec.memory.size = 512ull << 20;
            spec.vcpus.count = count;
            spec.images.push_back({ImageRole::firmware, Payload::map_file(cvmtest::vector_path("sev/synthetic_fw.bin")),
                                   true, {}});
            try {
                find_backend(tech).build_plan(spec);
                ADD_FAILURE() << tech << " planned " << count << " vCPUs";
            } catch (const Error& e) {
                EXPECT_NE(std::string(e.what()).find("supports 1 to 255"), std::string::npos) << e.what();
            }
        }
    }
}

} // namespace
