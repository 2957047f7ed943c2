// The TF-RMM measurement primitives against the published step-by-step
// vectors (tests/vectors/cca/README.md §5), the reference tool's own unit
// test RIMs (§3 #1, #2), the REM extend examples, and the RIPAS block
// decomposition examples of docs/arm-cca.md §3.5.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "backends/arm-cca/rim.hpp"
#include "cvm/error.hpp"
#include "test_paths.hpp"

using namespace cvm;
using namespace cvm::cca;

namespace {

std::vector<std::uint8_t> read_vector(const std::string& name) {
    std::ifstream in(cvmtest::vector_path("cca/" + name), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// flags 0, s2sz 33, sve_vl 0, num_bps 5, num_wps 5, pmu_num_ctrs 0.
RealmParams step_params(HashAlgorithm algorithm) {
    RealmParams p;
    p.s2sz = 33;
    p.num_bps = 5;
    p.num_wps = 5;
    p.algorithm = algorithm;
    return p;
}

struct StepVectors {
    HashAlgorithm algorithm;
    const char* expected[5];
};

const StepVectors kSteps[] = {
    {HashAlgorithm::sha256,
     {"9abbddd3cf68930801ba9475b12b0036bf43bd1399a161b178751d2f7b2880c3",
      "0d689b3cc196521b25f66e6c3bbdc2b8ea72e115a3bfa922c90c4c73ed798345",
      "8344a823d96088dd2a4c9b1681dc8b9b2aa69489f588cd41d8be1279a54d6c32",
      "c0c189a69b09b6c2516924e291b9e2dd1ced186e2537e37941ba428ea0ee166a",
      "c06c84d4d6df612930ae0122c357c8b133e1296b5c01de291bd5d12affe45da4"}},
    {HashAlgorithm::sha512,
     {"2843246be6dafb273db1b0d62dd8f5a7c4fb943f67220c58bafb62ac06f827194d5e4bbc7806adfed746c629463d2150c80457cd27559b05abb6de2520e8a2d4",
      "24d6cb50f89ed1e3a0fe4ed336d60a37fd8797efd1ef4037068698bd65e9615f0ee287ad13e2b5d68b0528a5b72677f6bc19a55e89ea0fc1f602fb3c0af59f1c",
      "7169181728014edfc415e24ff740cad7349830166592ee4fd210f827396a70dbe8998b1b5360a094aebe12e56cfc59aae7e2928f7b15b62c3693caa2573142b3",
      "fa79750f4153ae4b84fdbcc5c439e4ab7589dccd9b186f623607bca46b5e336a9762ea45ab2fa1e630671278d10d702f5dd177696b41a2763d5ba41b5de8147a",
      "537a6007e7a88b892d1c534b06535852b60d40c3ba560dd0fc823e5d8944fd18e58ec4e0cf88de54e90396ff6f4b32ca95bd05d4940e902acc748fffbf09fe62"}},
};

TEST(RimPrimitives, StepByStepVectors) {
    auto pattern = read_vector("pattern-4096.bin");
    ASSERT_EQ(pattern.size(), 4096u);
    for (const auto& v : kSteps) {
        SCOPED_TRACE(std::string(to_string(v.algorithm)));
        Rim rim(step_params(v.algorithm));
        EXPECT_EQ(rim.value().hex(), v.expected[0]);
        rim.ripas(0x80000000, 0x80200000);
        EXPECT_EQ(rim.value().hex(), v.expected[1]);
        rim.data_measured(0x80000000, pattern);
        EXPECT_EQ(rim.value().hex(), v.expected[2]);
        rim.data_unmeasured(0x80001000);
        EXPECT_EQ(rim.value().hex(), v.expected[3]);
        rim.rec(0x80000000, {0x8FE00000, 0, 0, 0, 0, 0, 0, 0});
        EXPECT_EQ(rim.value().hex(), v.expected[4]);
    }
}

TEST(RimPrimitives, RealmCreateWithSvePmu) {
    RealmParams p;
    p.flags = RealmParams::kFlagSve | RealmParams::kFlagPmu;
    p.s2sz = 48;
    p.sve_vl = 3;
    p.num_bps = 5;
    p.num_wps = 3;
    p.pmu_num_ctrs = 6;
    p.algorithm = HashAlgorithm::sha512;
    EXPECT_EQ(Rim(p).value().hex(),
              "7aecc32bfbe462771d9061e6100c324ffd74571e4e529627fe2d0bd65843b0521eaf9b9408e415592f4b31c3b2efdf23"
              "dff675646852c21a1f2bb1b6d54d3545");
}

// cca-realm-measurements src/realm_config.rs test_rim: s2sz 48, 2 breakpoints
// and watchpoints (encoded 1), nothing else.
TEST(RimPrimitives, ReferenceToolUnitTest) {
    RealmParams p;
    p.s2sz = 48;
    p.num_bps = 1;
    p.num_wps = 1;
    p.algorithm = HashAlgorithm::sha256;
    EXPECT_EQ(Rim(p).value().hex(), "6739dfb22b75ee1268d08dfa8369f501bc0b066243553f069f560d1fa1172973");
    p.algorithm = HashAlgorithm::sha512;
    EXPECT_EQ(Rim(p).value().hex(),
              "799e434048fb57eb9d4f0e2a2b98158720377252deab2bdfcd69b5a8f82237f434bd6bb1c75bf160a2d49382f733b343"
              "9a3ff769e4ea5dd9a6f72239d44bbbab");
}

TEST(RimPrimitives, ParamsPageLayout) {
    RealmParams p = step_params(HashAlgorithm::sha512);
    p.flags = RealmParams::kFlagPmu;
    p.pmu_num_ctrs = 7;
    auto page = p.measured_page();
    ASSERT_EQ(page.size(), 4096u);
    EXPECT_EQ(page[0x00], 4);     // flags: PMU
    EXPECT_EQ(page[0x08], 33);    // s2sz
    EXPECT_EQ(page[0x18], 5);     // num_bps
    EXPECT_EQ(page[0x20], 5);     // num_wps
    EXPECT_EQ(page[0x28], 7);     // pmu_num_ctrs
    EXPECT_EQ(page[0x30], 1);     // SHA-512
    std::size_t nonzero = 0;
    for (auto b : page) nonzero += b != 0;
    EXPECT_EQ(nonzero, 6u);
}

TEST(RimPrimitives, RemExtendExamples) {
    std::vector<std::uint8_t> ones32(32, 0x11), ones64(64, 0x11);
    EXPECT_EQ(rem_extend(Digest::zero(HashAlgorithm::sha256), ones32).hex(),
              "8878b15a7d6a3a4f464e8f9f42591dbc0cf4bedea0ec309003d2b2ee53655ef8");
    EXPECT_EQ(rem_extend(Digest::zero(HashAlgorithm::sha512), ones64).hex(),
              "9e79d4ba0dbf4caabcd559e34d620f90d3a13411edfd801996e66819260fdc0a29182e7ffef267464c52933528f52172"
              "aefc5c4bede5a02ba383f85b2dbebe82");
    std::vector<std::uint8_t> too_long(65, 0);
    EXPECT_THROW(rem_extend(Digest::zero(HashAlgorithm::sha256), too_long), Error);
}

TEST(RimPrimitives, RipasBlockDecomposition) {
    // 512 MiB of kvmtool RAM at IPA 33: 256 blocks of 2 MiB.
    auto k = ripas_blocks(0x80000000, 0xA0000000, 33);
    ASSERT_EQ(k.size(), 256u);
    for (std::size_t i = 0; i < k.size(); ++i) {
        EXPECT_EQ(k[i].first, 0x80000000 + i * 0x200000);
        EXPECT_EQ(k[i].second - k[i].first, 0x200000u);
    }
    // 1 GiB of QEMU RAM at IPA 41: one 1 GiB block.
    auto q = ripas_blocks(0x40000000, 0x80000000, 41);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0], (std::pair<std::uint64_t, std::uint64_t>{0x40000000, 0x80000000}));
    // At IPA 33 (start level 2) there are no 1 GiB blocks; unaligned edges use 4 KiB.
    auto m = ripas_blocks(0x801ff000, 0x80401000, 33);
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0], (std::pair<std::uint64_t, std::uint64_t>{0x801ff000, 0x80200000}));
    EXPECT_EQ(m[1], (std::pair<std::uint64_t, std::uint64_t>{0x80200000, 0x80400000}));
    EXPECT_EQ(m[2], (std::pair<std::uint64_t, std::uint64_t>{0x80400000, 0x80401000}));
    // IPA 48 starts at level 0: a 512 GiB aligned range is one block.
    auto big = ripas_blocks(512ull << 30, 1024ull << 30, 48);
    EXPECT_EQ(big.size(), 1u);
    EXPECT_THROW(ripas_blocks(0x80000000, 0x80001000, 52), Error);
    EXPECT_THROW(ripas_blocks(0x80000800, 0x80001000, 40), Error);
}

TEST(RimPrimitives, RejectsWhatRmmRejects) {
    Rim rim(step_params(HashAlgorithm::sha256));
    std::vector<std::uint8_t> page(4097, 0);
    EXPECT_THROW(rim.data_measured(0x80000000, page), Error);
    EXPECT_THROW(rim.data_measured(0x80000800, ByteSpan(page.data(), 16)), Error);
    EXPECT_THROW(rim.ripas(0x80001000, 0x80001000), Error);
    RealmParams p = step_params(HashAlgorithm::sha384);
    EXPECT_THROW(Rim{p}, Error);
}

} // namespace
