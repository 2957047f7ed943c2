// The type-state command API: illegal call orders do not compile (checked
// here with requires-expressions), and the legal order — including
// LAUNCH_SECRET and the attestation report, which the plan launcher does
// not use — passes the right arguments; /dev/sev queries use the
// length-query pattern.
#include <gtest/gtest.h>

#include <cstring>
#include <fcntl.h>

#include "backends/amd-sev/sev_commands.hpp"
#include "backends/amd-sev/sev_platform.hpp"
#include "fake_sev.hpp"

using namespace cvm;
using namespace cvm::sev;
namespace uapi = cvm::sev::uapi;
using Span = std::span<std::uint8_t>;

// Commands exist only in the states the firmware accepts them in...
template <class S> concept CanUpdateData = requires(S s, Span host) { s.update_data(host); };
template <class S> concept CanInjectSecret = requires(S s, ByteSpan b, Span g) { s.inject_secret(b, g, b); };
template <class S> concept CanMeasure = requires(S s) { std::move(s).measure(); };
static_assert(CanUpdateData<SevStarted> && !CanUpdateData<SevNew> && !CanUpdateData<SevMeasured>);
static_assert(CanInjectSecret<SevMeasured> && !CanInjectSecret<SevStarted> && !CanInjectSecret<SevFinished>);
static_assert(CanMeasure<SevStarted> && !CanMeasure<SnpStarted> && !CanMeasure<SevNew>);
// ...and a transition consumes its state: it cannot be called on an lvalue.
template <class S> concept MeasuresLvalue = requires(S& s) { s.measure(); };
template <class S> concept StartsLvalue = requires(S& s) { s.start(1u); };
template <class S> concept FinishesLvalue = requires(S& s) { s.finish(); };
template <class S> concept FinishesSnpLvalue = requires(S& s, const std::array<std::uint8_t, 32>& h) { s.finish(h); };
template <class S> concept FinishesSnpRvalue = requires(S s, const std::array<std::uint8_t, 32>& h) { std::move(s).finish(h); };
static_assert(!MeasuresLvalue<SevStarted> && !StartsLvalue<SevNew> && !StartsLvalue<SnpNew>);
static_assert(!FinishesLvalue<SevMeasured> && !FinishesSnpLvalue<SnpStarted> && FinishesSnpRvalue<SnpStarted>);

namespace {

TEST(SevCommands, SecretAndReportInOrder) {
    cvmtest::FakeSev fake;
    KvmSystem kvm(fake, "/dev/kvm");
    Vm vm = kvm.create_vm(uapi::kVmTypeSev);
    int sev_fd = fake.open("/dev/sev", O_RDWR);
    UniqueFd sev_device(sev_fd);
    SevChannel channel(vm, sev_fd);

    std::vector<std::uint8_t> page(4096, 0x5a);
    auto started = SevNew::init(channel, Mode::sev, InitKind::init2).start(0x1);
    EXPECT_EQ(started.handle(), 7u);
    started.update_data(page);
    auto measured = std::move(started).measure();
    EXPECT_EQ(measured.measurement()[0], 0xab);
    std::array<std::uint8_t, 52> header{};
    std::vector<std::uint8_t> cipher(32, 0x77);
    measured.inject_secret(header, Span(page).first(32), cipher);
    auto finished = std::move(measured).finish();
    auto report = finished.attestation_report({1, 2, 3});
    EXPECT_EQ(report, std::vector<std::uint8_t>(64, 0xcd));

    auto calls = fake.sev_calls();
    ASSERT_EQ(calls.size(), 9u);
    std::vector<std::uint32_t> ids;
    for (const auto& c : calls) ids.push_back(c.id);
    EXPECT_EQ(ids, (std::vector<std::uint32_t>{uapi::kSevInit2, uapi::kLaunchStart, uapi::kLaunchUpdateData,
                                               uapi::kLaunchMeasure, uapi::kLaunchMeasure, uapi::kLaunchSecret,
                                               uapi::kLaunchFinish, uapi::kGetAttestationReport,
                                               uapi::kGetAttestationReport}));
    uapi::LaunchSecret secret{};
    std::memcpy(&secret, calls[5].args.data(), sizeof secret);
    EXPECT_EQ(secret.hdr_len, 52u);
    EXPECT_EQ(secret.guest_uaddr, reinterpret_cast<std::uint64_t>(page.data()));
    EXPECT_EQ(secret.guest_len, 32u);
    EXPECT_EQ(secret.trans_uaddr, reinterpret_cast<std::uint64_t>(cipher.data()));
    EXPECT_EQ(secret.trans_len, 32u);
    uapi::AttestationReport query{};
    std::memcpy(&query, calls[7].args.data(), sizeof query);
    EXPECT_EQ(query.len, 0u);  // the length query
    EXPECT_EQ(query.mnonce[2], 3);
}

TEST(SevCommands, PlatformQueriesAskForLengthsFirst) {
    cvmtest::FakeSev fake;
    int sev_fd = fake.open("/dev/sev", O_RDWR);
    UniqueFd sev_device(sev_fd);
    auto status = platform_status(fake, sev_fd);
    EXPECT_EQ(status.api_major, 1);
    EXPECT_EQ(status.api_minor, 55);
    EXPECT_EQ(status.build, 21);
    EXPECT_TRUE(status.es_enabled());
    auto pdh = pdh_cert_export(fake, sev_fd);
    EXPECT_EQ(pdh.pdh, std::vector<std::uint8_t>(2084, 0x11));
    EXPECT_EQ(pdh.cert_chain.size(), 3u * 2084);
    EXPECT_EQ(chip_id(fake, sev_fd), std::vector<std::uint8_t>(64, 0x22));
    EXPECT_EQ(fake.log(), (std::vector<std::string>{"open /dev/sev", "sev SEV_ISSUE_CMD 1", "sev SEV_ISSUE_CMD 5",
                                                    "sev SEV_ISSUE_CMD 5", "sev SEV_ISSUE_CMD 8",
                                                    "sev SEV_ISSUE_CMD 8"}));
}

} // namespace
