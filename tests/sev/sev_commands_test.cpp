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
#include "libcvm/kvm/guest_memory.hpp"
#include "libcvm/kvm/private_memory.hpp"
#include <cerrno>
#include <linux/psp-sev.h>

#include "cvm/error.hpp"
#include "sev_kernel_model.hpp"

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
    cvmtest::sev::SevKernelModel fake;
    KvmSystem kvm(fake, "/dev/kvm");
    Vm vm = kvm.create_vm(uapi::kVmTypeSev);
    int sev_fd = fake.open("/dev/sev", O_RDWR);
    UniqueFd sev_device(sev_fd);
    SevChannel channel(vm, sev_fd);

    std::vector<std::uint8_t> page(4096, 0x5a);
    auto started = SevNew::init(channel, Mode::sev, InitKind::init2).start(0x1);
    EXPECT_EQ(started.handle(), 1u);
    started.update_data(page);
    auto measured = std::move(started).measure();
    EXPECT_EQ(measured.measurement()[0], 0xab);
    std::array<std::uint8_t, 52> header{};
    std::vector<std::uint8_t> cipher(32, 0x77);
    measured.inject_secret(header, Span(page).first(32), cipher);
    auto finished = std::move(measured).finish();
    auto report = finished.attestation_report({1, 2, 3});
    EXPECT_EQ(report, std::vector<std::uint8_t>(cvmtest::sev::SevKernelModel::kReportSize, 0xcd));

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
    // Both length queries were answered as a kernel answers them:
    // arch/x86/kvm/svm/sev.c sev_launch_measure / sev_get_attestation_report
    // return the -EIO of drivers/crypto/ccp/sev-dev.c with INVALID_LEN.
    for (std::size_t i : {3u, 7u}) {
        EXPECT_EQ(calls[i].result, -EIO) << i;
        EXPECT_EQ(calls[i].fw_error, std::uint32_t{SEV_RET_INVALID_LEN}) << i;
    }
}

// Audit item 1. Old behaviour caught: measure() and attestation_report()
// accepted only EINVAL from the length query and threw on the -EIO a real
// kernel returns, so every SEV and SEV-ES launch failed at LAUNCH_MEASURE.
// (SecretAndReportInOrder above reaches the end only if -EIO is accepted.)
// And a query the firmware did not answer (no length) is still an error.
TEST(SevCommands, LengthQueryNeedsTheLengthNotJustAnErrno) {
    cvmtest::sev::SevKernelModel fake;
    KvmSystem kvm(fake, "/dev/kvm");
    Vm vm = kvm.create_vm(uapi::kVmTypeSev);
    UniqueFd sev_device(fake.open("/dev/sev", O_RDWR));
    SevChannel channel(vm, sev_device.get());
    auto started = SevNew::init(channel, Mode::sev, InitKind::init2).start(0x1);
    SevStarted stale = started;  // the same guest, asked again after LAUNCH_MEASURE
    auto measured = std::move(started).measure();
    EXPECT_EQ(measured.measurement()[47], 0xab);
    // The firmware refuses a second LAUNCH_MEASURE (INVALID_GUEST_STATE):
    // -EIO again, but without a length, which is no answer.
    try {
        std::move(stale).measure();
        ADD_FAILURE() << "a length query without a length was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.err(), EIO);
        EXPECT_NE(std::string(e.what()).find("length query"), std::string::npos) << e.what();
    }
}

// The model refuses what the kernel refuses, so a launcher that got the
// order or the VM type wrong fails against it (each named kernel function).
TEST(SevCommands, ModelRefusesWhatTheKernelRefuses) {
    cvmtest::sev::SevKernelModel fake;
    KvmSystem kvm(fake, "/dev/kvm");
    Vm vm = kvm.create_vm(uapi::kVmTypeSev);
    UniqueFd sev_device(fake.open("/dev/sev", O_RDWR));
    SevChannel channel(vm, sev_device.get());
    std::uint32_t fw = 0;
    // sev_guest_init: KVM_SEV_INIT only on a default VM.
    EXPECT_EQ(channel.try_command(uapi::kSevInit, nullptr, fw), -EINVAL);
    // sev_launch_start before any init: not an SEV guest yet.
    uapi::LaunchStart start{};
    start.policy = 1;
    EXPECT_EQ(channel.try_command(uapi::kLaunchStart, &start, fw), -ENOTTY);
    auto fresh = SevNew::init(channel, Mode::sev, InitKind::init2);
    (void)fresh;
    // LAUNCH_UPDATE_DATA before LAUNCH_START: the firmware has no guest.
    std::vector<std::uint8_t> page(4096, 1);
    uapi::LaunchUpdateData update{reinterpret_cast<std::uint64_t>(page.data()), 4096, 0};
    EXPECT_EQ(channel.try_command(uapi::kLaunchUpdateData, &update, fw), -EIO);
    EXPECT_EQ(fw, std::uint32_t{SEV_RET_INVALID_GUEST});
    // An SEV (not ES) guest with the ES policy bit: the firmware's POLICY_FAILURE.
    start.policy = 0x5;
    EXPECT_EQ(channel.try_command(uapi::kLaunchStart, &start, fw), -EIO);
    EXPECT_EQ(fw, std::uint32_t{SEV_RET_POLICY_FAILURE});
    // INIT2 twice: need_init is gone.
    uapi::Init init{};
    EXPECT_EQ(channel.try_command(uapi::kSevInit2, &init, fw), -EINVAL);
}

// SNP: bit 17 of the policy (snp_launch_start), SEV commands after an SNP
// INIT2 (sev_mem_enc_ioctl: -EPERM), and SNP_LAUNCH_UPDATE of a range that
// is not private (kvm_gmem_populate: -EINVAL, reported by snp_launch_update
// as -EIO) all fail against the model as against the kernel.
TEST(SevCommands, SnpOrderAndPolicy) {
    cvmtest::sev::SevKernelModel fake;
    KvmSystem kvm(fake, "/dev/kvm");
    Vm vm = kvm.create_vm(uapi::kVmTypeSnp);
    UniqueFd sev_device(fake.open("/dev/sev", O_RDWR));
    SevChannel channel(vm, sev_device.get());
    auto snp = SnpNew::init(channel, 0x1);
    std::uint32_t fw = 0;
    uapi::LaunchStart start{};
    EXPECT_EQ(channel.try_command(uapi::kLaunchStart, &start, fw), -EPERM);
    SnpNew copy = snp;
    try {
        std::move(copy).start(0x10000);  // bit 17 clear
        ADD_FAILURE() << "SNP_LAUNCH_START without policy bit 17 was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.err(), EINVAL);
    }
    auto started = std::move(snp).start(0x30000);
    // guest_memfd slot, left shared: the update is refused.
    GuestMemory shared;
    PrivateMemory memory(vm, shared);
    memory.add(0x100000, 0x4000, false);
    auto host = shared.at(0x100000, 0x4000);
    try {
        started.update(0x100000, host, uapi::kSnpPageNormal);
        ADD_FAILURE() << "SNP_LAUNCH_UPDATE of shared memory was accepted";
    } catch (const SnpUpdateError& e) {
        EXPECT_EQ(e.err(), EIO);
        EXPECT_EQ(e.gpa(), 0x100000u);
    }
    // Private: accepted whole in one call (no partial progress needed).
    memory.set_attribute(0x100000, 0x4000, true);
    started.update(0x100000, host, uapi::kSnpPageNormal);
    EXPECT_EQ(fake.seen().populated.size(), 4u);
    // A page the firmware already owns cannot be populated again.
    EXPECT_THROW(started.update(0x100000, host.first(4096), uapi::kSnpPageNormal), SnpUpdateError);
}

// Partial progress: a populate cut short (a signal in kvm_gmem_populate)
// advances gfn_start/uaddr/len, and the launcher calls again from there.
TEST(SevCommands, SnpUpdateFollowsPartialProgress) {
    cvmtest::sev::SevKernelModel fake;
    fake.populate_pages_per_call = 3;
    KvmSystem kvm(fake, "/dev/kvm");
    Vm vm = kvm.create_vm(uapi::kVmTypeSnp);
    UniqueFd sev_device(fake.open("/dev/sev", O_RDWR));
    SevChannel channel(vm, sev_device.get());
    auto started = SnpNew::init(channel, 0x1).start(0x30000);
    GuestMemory shared;
    PrivateMemory memory(vm, shared);
    memory.add(0, 0x8000, true);
    auto host = shared.at(0, 0x8000);
    for (std::size_t i = 0; i < host.size(); ++i) host[i] = static_cast<std::uint8_t>(i / 4096 + 1);
    started.update(0, host, uapi::kSnpPageNormal);
    auto calls = fake.sev_calls();
    ASSERT_EQ(calls.size(), 5u);  // INIT2, LAUNCH_START, 3 + 3 + 2 pages
    std::vector<std::uint8_t> taken;
    for (std::size_t i = 2; i < calls.size(); ++i) taken.insert(taken.end(), calls[i].data.begin(), calls[i].data.end());
    EXPECT_TRUE(std::equal(taken.begin(), taken.end(), host.begin(), host.end()));
}


TEST(SevCommands, PlatformQueriesAskForLengthsFirst) {
    cvmtest::sev::SevKernelModel fake;
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
