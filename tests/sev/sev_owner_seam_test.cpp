// The guest owner's round trip of an SEV launch (RunOptions::owner), at the
// ioctl seam against the kernel model: the owner, in another thread at the
// far end of a socket, gets the LAUNCH_MEASURE blob the model's firmware
// computed, checks it against the digest predicted for the same plan, and
// answers; the model's firmware checks the secret packet's MAC and decrypts
// it into guest memory. Expected values are the test's own inputs (the
// plaintext, the keys) and the model's firmware constants, never what the
// launcher computed.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "cvm/owner_channel.hpp"
#include "cvm/sev_owner.hpp"
#include "sev_kernel_model.hpp"
#include "test_paths.hpp"

using namespace cvm;
using cvmtest::sev::GuestStep;
using cvmtest::sev::SevKernelModel;

namespace {

constexpr std::uint64_t kRam = 64ull << 20;

LaunchPlan plan_for(const std::string& tech, const std::string& firmware = "sev/synthetic_fw.bin") {
    VmSpec spec;
    spec.technology = tech;
    spec.memory.size = kRam;
    spec.vcpus.count = 1;
    spec.images.push_back({ImageRole::firmware, Payload::map_file(cvmtest::vector_path(firmware)), true, {}});
    spec.images.push_back({ImageRole::kernel, Payload::map_file(cvmtest::vector_path("sev/kernel.bin")), true, {}});
    return find_backend(tech).build_plan(spec);
}

std::deque<GuestStep> power_off() {
    return {GuestStep::of([](kvm_run& run) {
        run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
        run.system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
    })};
}

sev::TransportKeys test_keys() {
    sev::TransportKeys keys;
    for (int i = 0; i < 16; ++i) {
        keys.tek[i] = static_cast<std::uint8_t>(0x10 + i);
        keys.tik[i] = static_cast<std::uint8_t>(0x80 + i);
    }
    return keys;
}

// The model's firmware holds the test owner's transport keys, as a PSP
// would after unwrapping them from the LAUNCH_START session.
void give_keys(SevKernelModel& model) {
    const auto keys = test_keys();
    model.transport_keys = SevKernelModel::TransportKeys{keys.tek, keys.tik};
    model.script(power_off());
}

RunOptions options_for(SevKernelModel& model, OwnerRoundTrip owner) {
    RunOptions options;
    options.seam = &model;
    options.console_fd = -1;
    options.timeout = std::chrono::milliseconds(5000);
    options.owner = std::move(owner);
    return options;
}

std::vector<std::string> sev_commands(const SevKernelModel& model) {
    std::vector<std::string> names;
    for (const auto& line : model.log())
        if (line.rfind("vm KVM_SEV_LAUNCH", 0) == 0 && line != "vm KVM_SEV_LAUNCH_UPDATE_DATA") names.push_back(line.substr(3));
    return names;
}

// The error a launch that must fail ends with ("" if it did not fail).
std::string launch_error(const LaunchPlan& plan, SevKernelModel& model, OwnerRoundTrip owner) {
    try {
        find_backend(plan.technology()).launch(plan, options_for(model, std::move(owner)));
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// The owner at the far end of a socket pair: reads one request line,
// answers with what `answer` makes of it.
class OwnerThread {
public:
    explicit OwnerThread(std::function<std::string(const std::string&)> answer) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) != 0) throw Error("socketpair", errno);
        thread_ = std::thread([this, answer = std::move(answer)] {
            std::string line;
            char c;
            while (read(fds_[1], &c, 1) == 1 && c != '\n') line += c;
            request = line;
            if (line.empty()) return;
            std::string reply = answer(line) + "\n";
            if (write(fds_[1], reply.data(), reply.size()) < 0) return;
        });
    }
    ~OwnerThread() {
        shutdown(fds_[0], SHUT_RDWR);
        if (thread_.joinable()) thread_.join();
        close(fds_[0]);
        close(fds_[1]);
    }
    int host_fd() const { return fds_[0]; }
    std::string request;

private:
    int fds_[2] = {-1, -1};
    std::thread thread_;
};

std::vector<std::uint8_t> secret_bytes(std::size_t n) {
    std::vector<std::uint8_t> s(n);
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<std::uint8_t>('A' + i % 26);
    return s;
}

TEST(SevOwnerSeam, TheOwnerVerifiesTheLaunchAndItsSecretReachesTheSecretArea) {
    SevKernelModel model;
    give_keys(model);
    const auto plan = plan_for("amd-sev");
    const auto digest = find_backend("amd-sev").predict(plan).value;
    const auto secret = secret_bytes(64);
    OwnerThread owner([&](const std::string& line) {
        auto request = sev::parse_secret_request(line);
        return sev::to_json(sev::answer_secret_request(request, test_keys(), digest.bytes(), 1, secret));
    });
    auto result = find_backend("amd-sev").launch(plan, options_for(model, owner_over_fds(owner.host_fd(), owner.host_fd())));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;

    // What the owner was shown: the model's PLATFORM_STATUS (1.55, build
    // 21), the plan's policy, the firmware's secret area.
    auto request = sev::parse_secret_request(owner.request);
    EXPECT_EQ(request.technology, "amd-sev");
    EXPECT_EQ(request.version.api_major, 1);
    EXPECT_EQ(request.version.api_minor, 55);
    EXPECT_EQ(request.version.build, 21);
    EXPECT_EQ(request.policy, 1u);
    ASSERT_TRUE(request.secret_gpa && request.secret_size);
    EXPECT_EQ(std::vector<std::uint8_t>(request.measure.begin() + 32, request.measure.end()),
              std::vector<std::uint8_t>(16, 0x5a));  // the model firmware's MNONCE

    // The firmware accepted the MAC and decrypted the test's plaintext.
    EXPECT_EQ(model.seen().secret_plaintext, secret);
    EXPECT_EQ(sev_commands(model), (std::vector<std::string>{"KVM_SEV_LAUNCH_START", "KVM_SEV_LAUNCH_MEASURE",
                                                             "KVM_SEV_LAUNCH_MEASURE", "KVM_SEV_LAUNCH_SECRET",
                                                             "KVM_SEV_LAUNCH_FINISH"}));
    EXPECT_EQ(model.seen().guest_state, "running");
}

TEST(SevOwnerSeam, AnOwnerWithAnotherPredictionRefusesAndTheLaunchNeverFinishes) {
    SevKernelModel model;
    give_keys(model);
    const auto plan = plan_for("amd-sev");
    std::vector<std::uint8_t> other_digest(32, 0x11);
    OwnerThread owner([&](const std::string& line) {
        return sev::to_json(sev::answer_secret_request(sev::parse_secret_request(line), test_keys(), other_digest, 1,
                                                       secret_bytes(16)));
    });
    const std::string error = launch_error(plan, model, owner_over_fds(owner.host_fd(), owner.host_fd()));
    EXPECT_NE(error.find("the guest owner refused the launch: LAUNCH_MEASURE does not prove"), std::string::npos) << (error.empty() ? "the launch went on after the owner refused it" : error);
    EXPECT_EQ(model.seen().guest_state, "lsecret");
    EXPECT_TRUE(model.seen().secret_plaintext.empty());
}

TEST(SevOwnerSeam, FinishWithoutASecretGoesStraightToLaunchFinish) {
    SevKernelModel model;
    give_keys(model);
    OwnerThread owner([](const std::string&) { return std::string(R"({"action":"finish"})"); });
    auto result = find_backend("amd-sev").launch(plan_for("amd-sev"),
                                                 options_for(model, owner_over_fds(owner.host_fd(), owner.host_fd())));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_EQ(sev_commands(model), (std::vector<std::string>{"KVM_SEV_LAUNCH_START", "KVM_SEV_LAUNCH_MEASURE",
                                                             "KVM_SEV_LAUNCH_MEASURE", "KVM_SEV_LAUNCH_FINISH"}));
}

TEST(SevOwnerSeam, ATamperedPacketIsRefusedByTheFirmwaresMacCheck) {
    SevKernelModel model;
    give_keys(model);
    const auto plan = plan_for("amd-sev");
    const auto digest = find_backend("amd-sev").predict(plan).value;
    OwnerThread owner([&](const std::string& line) {
        auto reply = sev::answer_secret_request(sev::parse_secret_request(line), test_keys(), digest.bytes(), 1,
                                                secret_bytes(32));
        reply.packet.ciphertext[0] ^= 1;
        return sev::to_json(reply);
    });
    const std::string error = launch_error(plan, model, owner_over_fds(owner.host_fd(), owner.host_fd()));
    EXPECT_NE(error.find("KVM_SEV_LAUNCH_SECRET"), std::string::npos) << (error.empty() ? "a packet with a wrong MAC was accepted" : error);
    EXPECT_EQ(model.seen().guest_state, "lsecret");
}

TEST(SevOwnerSeam, ASecretLargerThanTheSecretAreaIsRefusedBeforeTheKernelSeesIt) {
    SevKernelModel model;
    give_keys(model);
    const auto plan = plan_for("amd-sev");
    const auto digest = find_backend("amd-sev").predict(plan).value;
    OwnerThread owner([&](const std::string& line) {
        auto request = sev::parse_secret_request(line);
        sev::SecretRequest unbounded = request;
        unbounded.secret_size.reset();  // so answer_secret_request does not refuse it first
        return sev::to_json(sev::answer_secret_request(unbounded, test_keys(), digest.bytes(), 1,
                                                       secret_bytes(static_cast<std::size_t>(*request.secret_size) + 16)));
    });
    EXPECT_THROW(find_backend("amd-sev").launch(plan, options_for(model, owner_over_fds(owner.host_fd(), owner.host_fd()))),
                 Error);
    for (const auto& name : sev_commands(model)) EXPECT_NE(name, "KVM_SEV_LAUNCH_SECRET");
}

TEST(SevOwnerSeam, TheKernelRefusesASecretAcrossAPageBoundary) {
    // sev_launch_secret: pages not physically contiguous are -EINVAL; the
    // model's 4 KiB host pages never are.
    SevKernelModel model;
    give_keys(model);
    const auto plan = plan_for("amd-sev");
    const auto digest = find_backend("amd-sev").predict(plan).value;
    OwnerThread owner([&](const std::string& line) {
        auto reply = sev::answer_secret_request(sev::parse_secret_request(line), test_keys(), digest.bytes(), 1,
                                                secret_bytes(32));
        reply.gpa = 0x200000 - 16;
        return sev::to_json(reply);
    });
    const std::string error = launch_error(plan, model, owner_over_fds(owner.host_fd(), owner.host_fd()));
    EXPECT_NE(error.find("KVM_SEV_LAUNCH_SECRET"), std::string::npos) << (error.empty() ? "the model's kernel accepted a secret across two pages" : error);
    bool refused = false;
    for (const auto& r : model.seen().refused) refused |= r.rfind("KVM_SEV_LAUNCH_SECRET", 0) == 0;
    EXPECT_TRUE(refused);
}

TEST(SevOwnerSeam, AChannelClosedWithoutAReplyEndsTheLaunch) {
    SevKernelModel model;
    give_keys(model);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    close(fds[1]);
    const std::string error = launch_error(plan_for("amd-sev"), model, owner_over_fds(fds[0], fds[0]));
    EXPECT_NE(error.find("guest owner"), std::string::npos) << (error.empty() ? "no reply, yet the launch went on" : error);
    close(fds[0]);
    EXPECT_EQ(model.seen().guest_state, "lsecret");
}

TEST(SevOwnerSeam, AnInterruptCancelsTheWaitForTheOwner) {
    SevKernelModel model;
    give_keys(model);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        cancel = true;
    });
    const std::string error = launch_error(plan_for("amd-sev"), model, owner_over_fds(fds[0], fds[0], std::chrono::milliseconds(0), [&] { return cancel.load(); }));
    EXPECT_NE(error.find("cancelled"), std::string::npos) << (error.empty() ? "the launch went on without its owner" : error);
    canceller.join();
    close(fds[0]);
    close(fds[1]);
}

TEST(SevOwnerSeam, TechnologiesWithoutTheRoundTripRefuseAnOwnerBeforeTouchingTheKernel) {
    SevKernelModel model;
    auto owner = [](const std::string&) { return std::string(R"({"action":"finish"})"); };
    VmSpec spec;
    spec.technology = "amd-sev-snp";
    spec.memory.size = kRam;
    spec.vcpus.count = 1;
    spec.images.push_back({ImageRole::firmware, Payload::map_file(cvmtest::vector_path("sev/synthetic_fw.bin")), true, {}});
    auto snp = find_backend("amd-sev-snp").build_plan(spec);
    const std::string error = launch_error(snp, model, owner);
    EXPECT_NE(error.find("has no guest-owner round trip"), std::string::npos) << (error.empty() ? "an SNP launch took an owner round trip" : error);
    EXPECT_TRUE(model.log().empty());
}

// A file of the test's own bytes, private as key files must be.
std::string write_private(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    std::string path = ::testing::TempDir() + "sev-owner-" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    chmod(path.c_str(), 0600);
    return path;
}

TEST(SevOwnerSeam, CvmLaunchOwnerReplyAsTheOwnerCommand) {
    // The CLI's whole path: run --owner-command hands the request to
    // `cvm-launch owner-reply`, which predicts the digest for the same files
    // itself, checks MEASURE and wraps the secret.
    const char* cli = std::getenv("CVM_LAUNCH");
    if (!cli) GTEST_SKIP() << "CVM_LAUNCH is not set (a cross build runs no native cvm-launch)";
    SevKernelModel model;
    give_keys(model);
    const auto keys = test_keys();
    const auto secret = secret_bytes(48);
    std::string command = fmt::format(
        "{} owner-reply --tech amd-sev --firmware {} --kernel {} --memory 64M --tik-file {} --tek-file {} "
        "--secret-file {}", cli, cvmtest::vector_path("sev/synthetic_fw.bin"), cvmtest::vector_path("sev/kernel.bin"),
        write_private("tik", {keys.tik.begin(), keys.tik.end()}), write_private("tek", {keys.tek.begin(), keys.tek.end()}),
        write_private("secret", secret));
    auto result = find_backend("amd-sev").launch(plan_for("amd-sev"), options_for(model, owner_over_command(command)));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_EQ(model.seen().secret_plaintext, secret);
}

TEST(SevOwnerSeam, AnOwnerCommandThatEndsWithoutAReplyIsNamed) {
    SevKernelModel model;
    give_keys(model);
    const std::string error = launch_error(plan_for("amd-sev"), model, owner_over_command("read line; exit 7"));
    EXPECT_NE(error.find("exit status 7"), std::string::npos) << (error.empty() ? "a command without a reply let the launch go on" : error);
    EXPECT_EQ(model.seen().guest_state, "lsecret");
}

TEST(SevOwnerSeam, AShellOwnerThatFinishes) {
    SevKernelModel model;
    give_keys(model);
    auto result = find_backend("amd-sev").launch(
        plan_for("amd-sev"), options_for(model, owner_over_command(R"(read line; echo '{"action":"finish"}')")));
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
}

} // namespace
