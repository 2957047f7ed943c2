// The plain backend's software measurement, recomputed here from the
// encoding documented in docs/plain-measurement.md with OpenSSL's one-shot
// SHA256(), independently of libcvm's hashing code.
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include <openssl/sha.h>

#include "cvm/backend.hpp"
#include "synthetic_images.hpp"

using namespace cvm;

namespace {

struct Encoder {
    std::vector<std::uint8_t> bytes;
    void tag(const char* name) { bytes.insert(bytes.end(), name, name + std::strlen(name) + 1); }
    void u8(std::uint8_t v) { bytes.push_back(v); }
    void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
    void u64(std::uint64_t v) { for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
    void str(const std::string& s) { u32(static_cast<std::uint32_t>(s.size())); bytes.insert(bytes.end(), s.begin(), s.end()); }
    void raw(const std::uint8_t* p, std::size_t n) { bytes.insert(bytes.end(), p, p + n); }
};

std::array<std::uint8_t, 32> sha256(const std::vector<std::uint8_t>& b) {
    std::array<std::uint8_t, 32> out{};
    SHA256(b.data(), b.size(), out.data());
    return out;
}

TEST(SoftwareMeasurement, MatchesTheDocumentedChain) {
    const std::vector<std::uint8_t> data{1, 2, 3, 4, 5};
    LaunchPlan plan("plain", HashAlgorithm::sha256);
    const std::vector<ConfigField> fields{{"arch", "x86_64"}, {"irqchip", "in-kernel"}};
    plan.add(op::CreateVm{find_backend("plain").decode_config(fields)});
    plan.add(op::AddMemory{0, 0x100000, false, "ram"});
    plan.add(op::LoadData{0x1000, Payload::from_bytes(data, "d"), true, "x", ""});
    plan.add(op::LoadData{0x2000, Payload::from_bytes(data, "d"), false, "y", ""});
    plan.add(op::CreateVcpus{2});
    plan.add(op::SetRegisters{0, {{"rip", 0x100200}}});
    plan.add(op::Finalize{});

    std::vector<std::vector<std::uint8_t>> encodings;
    Encoder e;
    e.tag("create-vm"); e.u32(2); e.str("arch"); e.str("x86_64"); e.str("irqchip"); e.str("in-kernel");
    encodings.push_back(e.bytes); e = {};
    e.tag("add-memory"); e.u64(0); e.u64(0x100000); e.u8(0);
    encodings.push_back(e.bytes); e = {};
    auto data_hash = sha256(data);
    e.tag("load-data"); e.u64(0x1000); e.u64(5); e.u8(1); e.raw(data_hash.data(), 32);
    encodings.push_back(e.bytes); e = {};
    e.tag("load-data"); e.u64(0x2000); e.u64(5); e.u8(0);
    encodings.push_back(e.bytes); e = {};
    e.tag("create-vcpus"); e.u32(2);
    encodings.push_back(e.bytes); e = {};
    e.tag("set-registers"); e.u32(0); e.u32(1); e.str("rip"); e.u64(0x100200);
    encodings.push_back(e.bytes); e = {};
    e.tag("finalize");
    encodings.push_back(e.bytes);

    std::vector<std::uint8_t> chain(32, 0);
    for (const auto& enc : encodings) {
        auto event = sha256(enc);
        std::vector<std::uint8_t> input(chain);
        input.insert(input.end(), event.begin(), event.end());
        auto next = sha256(input);
        chain.assign(next.begin(), next.end());
    }
    auto predicted = find_backend("plain").predict(plan);
    EXPECT_EQ(predicted.value.hex(), to_hex(chain));
    EXPECT_EQ(predicted.technology, "plain");

    auto events = find_backend("plain").events(plan);
    ASSERT_EQ(events.size(), encodings.size());
    EXPECT_EQ(events[2].digest.hex(), to_hex(sha256(encodings[2])));
}

TEST(SoftwareMeasurement, EveryInputByteMatters) {
    VmSpec spec;
    spec.memory.size = 64ull << 20;
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(cvmtest::synthetic_bzimage(), "k"), true, {}});
    const auto& plain = find_backend("plain");
    auto base = plain.predict(plain.build_plan(spec)).value;

    auto flipped = cvmtest::synthetic_bzimage();
    flipped.back() ^= 1;
    VmSpec other = spec;
    other.images[0].payload = Payload::from_bytes(flipped, "k");
    EXPECT_NE(plain.predict(plain.build_plan(other)).value, base);

    other = spec;
    other.cmdline = "x";
    EXPECT_NE(plain.predict(plain.build_plan(other)).value, base);

    other = spec;
    other.vcpus.count = 2;
    EXPECT_NE(plain.predict(plain.build_plan(other)).value, base);

    // An unmeasured kernel leaves its contents out, but not its placement.
    VmSpec unmeasured = spec;
    unmeasured.images[0].measured = false;
    VmSpec unmeasured_flipped = unmeasured;
    unmeasured_flipped.images[0].payload = Payload::from_bytes(flipped, "k");
    EXPECT_EQ(plain.predict(plain.build_plan(unmeasured)).value, plain.predict(plain.build_plan(unmeasured_flipped)).value);
}

} // namespace
