// Every public realm vector (tests/vectors/cca/README.md §3 and §4)
// through the library API: spec -> arm-cca plan -> predicted RIM. The DTBs
// the layouts generate are compared byte for byte with the reference tool's.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "synthetic_images.hpp"
#include "test_files.hpp"
#include "test_paths.hpp"

using namespace cvm;

namespace {

std::string vec(const std::string& name) { return cvmtest::vector_path("cca/" + name); }

// The external inputs (tests/vectors/external.tsv): the reference tool's
// test header and Debian's arm64 kernel; a test that needs an absent one
// skips, naming it.
#define NEED_VECTOR(name) \
    if (auto why = cvmtest::vector_missing("cca/" name); !why.empty()) GTEST_SKIP() << why

std::string debian_image() { return vec("Image-6.1.0-56-arm64"); }

Payload arm64_image() { return Payload::from_bytes(cvmtest::synthetic_arm64_image(256, 0x2d10000), "Image"); }

struct Realm {
    VmSpec spec;
    Realm(const std::string& layout, unsigned vcpus, std::uint64_t memory) {
        spec.technology = "arm-cca";
        spec.options["layout"] = layout;
        spec.vcpus.count = vcpus;
        spec.memory.size = memory;
        spec.options["num-bps"] = "6";
        spec.options["num-wps"] = "6";
    }
    Realm& image(ImageRole role, const std::string& path) { return image(role, Payload::map_file(path)); }
    Realm& image(ImageRole role, Payload payload) {
        spec.images.push_back({role, std::move(payload), true, {}});
        return *this;
    }
    Realm& opt(const std::string& key, const std::string& value) {
        spec.options[key] = value;
        return *this;
    }
    Realm& cmdline(const std::string& text) {
        spec.cmdline = text;
        return *this;
    }
    LaunchPlan plan() const { return find_backend("arm-cca").build_plan(spec); }
    std::string rim() const { return find_backend("arm-cca").predict(plan()).value.hex(); }
    std::vector<std::uint8_t> dtb() const {
        LaunchPlan p = plan();
        for (const auto& operation : p.operations())
            if (auto* load = std::get_if<op::LoadData>(&operation); load && load->label == "dtb") {
                auto b = load->data.bytes();
                return {b.begin(), b.end()};
            }
        throw std::runtime_error("no dtb in the plan");
    }
};

constexpr std::uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;

// Q256: --num-wps 6 --num-bps 6 --ipa-bits 52 --pmu-num-ctrs 6 qemu ...
// rme-guest sha256 -smp 2 -m 1G.
Realm q256() { return Realm("qemu", 2, kGiB).opt("ipa-bits", "52").opt("hash", "sha256"); }

// §3 #3: kvmtool --realm -c 1 -m 512M (no kernel: PC 0, the DTB alone).
TEST(RealmVectors, Kvmtool3NoPayload) {
    EXPECT_EQ(Realm("kvmtool", 1, 512 * kMiB).rim(),
              "998dfdf6401d69f73ed88ac53d62d5ea2cfac6320b887ce4599aa8671791d4d0");
}

// §3 #4: kvmtool --firmware firmware -c 1 -m 512M.
TEST(RealmVectors, Kvmtool4Firmware) {
    EXPECT_EQ(Realm("kvmtool", 1, 512 * kMiB).image(ImageRole::firmware, vec("firmware")).rim(),
              "cf37146fce0ad50e1be1a04580c1024e5449b430b0dd96b6ef5c9a2b73767bf5");
}

// §3 #5-#7: qemu with its defaults (-m 128M, 1 vCPU, SHA-512), PMU off/on/2 counters.
TEST(RealmVectors, Qemu5To7Pmu) {
    auto base = [] { return Realm("qemu", 1, 128 * kMiB).opt("ipa-bits", "52"); };
    EXPECT_EQ(base().rim(),
              "cf409055d866eea6c8d5e7862b540ff1cac9b11f125d088587d5ae97a0e3341667cf8fb3983e7377bca5c01d037bd970"
              "81ebf3b4dcb648442149749f4d65eeb0");
    EXPECT_EQ(base().opt("pmu", "on").opt("pmu-counters", "6").rim(),
              "8120ef921a987a3f8b9d4bb5e40f8489e2b4fc69c5e1b17b1a9b040884a1211d99b2bddc3fddcc99ec99f4244743fe3d"
              "cd3d9020583b47f7b66a2ec66bb897b9");
    EXPECT_EQ(base().opt("pmu", "on").opt("pmu-counters", "2").rim(),
              "ef4e6f78ea9630f66146b33a405a07b669ef94dd9aca6935d4fd23fea32f98f964241a2f9a9c20c9fcd74e20031c51c4"
              "beb8e577873e0348e891ee2d727e2807");
}

// §3 #8-#12 on Q256.
TEST(RealmVectors, Qemu8) {
    EXPECT_EQ(q256().image(ImageRole::firmware, vec("firmware")).rim(),
              "cbf533a94009dfa6b83016a89b428d1d910fb3593856bb386d7b2bd07a1bc834");
}

TEST(RealmVectors, Qemu9To12) {
    NEED_VECTOR("crm-testdata-linux.bin");
    EXPECT_EQ(q256()
                  .image(ImageRole::firmware, vec("firmware"))
                  .image(ImageRole::kernel, vec("crm-testdata-linux.bin"))
                  .cmdline("root=/dev/vda2")
                  .rim(),
              "fd3ce1072c3e95cd3a4d1a07729756564f260f9f7e95014418b416673a268b7a");
    // Under firmware the kernel arrives through fw_cfg: same RIM as #8.
    EXPECT_EQ(q256()
                  .image(ImageRole::firmware, vec("firmware"))
                  .image(ImageRole::kernel, vec("crm-testdata-linux.bin"))
                  .rim(),
              "cbf533a94009dfa6b83016a89b428d1d910fb3593856bb386d7b2bd07a1bc834");
    EXPECT_EQ(q256().image(ImageRole::kernel, vec("crm-testdata-linux.bin")).rim(),
              "e8862e21b8eb6b4bdeeff244dc59d2935c26d92c52d346f06e224fe712267a60");
    EXPECT_EQ(q256()
                  .image(ImageRole::kernel, vec("crm-testdata-linux.bin"))
                  .image(ImageRole::initrd, vec("initrd-14B"))
                  .rim(),
              "9af47a8e4d6ac775e05f8a8893f9e383694688719d1bbb4281ed1c25056e0911");
    EXPECT_EQ(q256()
                  .image(ImageRole::kernel, vec("crm-testdata-linux.bin"))
                  .image(ImageRole::initrd, vec("initrd-14B"))
                  .cmdline("root=/dev/vda2")
                  .rim(),
              "22d398e695e776385bc268454587b418dde16e34bc69d9a24fc96abb3050a24e");
}

// §3 #13: SHA-512, -bios firmware, generated DTB; then the same DTB given
// with --dtb reproduces it even with 8 vCPUs.
TEST(RealmVectors, Qemu13FirmwareDtb) {
    auto realm = [](unsigned vcpus) {
        return Realm("qemu", vcpus, kGiB).opt("ipa-bits", "52").opt("hash", "sha512")
            .image(ImageRole::firmware, vec("firmware"));
    };
    const char* expected =
        "3175b3c0c201081ad410defe6c32e145fd77ff03e63518a9f00831b12b6ec2070f743f43f0ff3290902ecebd4e6bea8d"
        "5926dca19dc1a06fb8d51d551a4a2b79";
    EXPECT_EQ(realm(2).rim(), expected);
    auto dtb = realm(2).dtb();
    VmSpec with_dtb = realm(2).spec;
    with_dtb.images.push_back({ImageRole::dtb, Payload::from_bytes(dtb, "output.dtb"), true, {}});
    const auto& backend = find_backend("arm-cca");
    EXPECT_EQ(backend.predict(backend.build_plan(with_dtb)).value.hex(), expected);
    // The tree's two CPUs are the guest's: a launch of another count would
    // bring up two of them, so it is refused rather than predicted.
    with_dtb.vcpus.count = 8;
    EXPECT_THROW(backend.build_plan(with_dtb), Error);
}

// §4 K1 and Q1 on the Debian kernel.
TEST(RealmVectors, K1DebianKvmtool) {
    NEED_VECTOR("Image-6.1.0-56-arm64");
    Realm k1 = Realm("kvmtool", 1, 512 * kMiB).image(ImageRole::kernel, debian_image());
    EXPECT_EQ(k1.rim(), "7480937e6380978a586416e24bd9f0f1f1f9639086218b2a355727a69d459052");
    // The same with the reference DTB given as is.
    EXPECT_EQ(Realm(k1).image(ImageRole::dtb, vec("kvmtool-k.dtb")).rim(),
              "7480937e6380978a586416e24bd9f0f1f1f9639086218b2a355727a69d459052");
}

TEST(RealmVectors, Q1DebianQemu) {
    NEED_VECTOR("Image-6.1.0-56-arm64");
    Realm q1 = Realm("qemu", 2, kGiB).opt("ipa-bits", "48").opt("hash", "sha256")
                   .image(ImageRole::kernel, debian_image());
    EXPECT_EQ(q1.rim(), "59082583573c04f594b0a93879257e5f5a530229108b2324a4adc4597e11920f");
    EXPECT_EQ(Realm(q1).image(ImageRole::dtb, vec("qemu-k256.dtb")).rim(),
              "59082583573c04f594b0a93879257e5f5a530229108b2324a4adc4597e11920f");
    // The operations the README lists: s2sz 41, one 1 GiB RIPAS block, DTB at 0x48000000.
    auto plan = q1.plan();
    const auto& create = std::get<op::CreateVm>(plan.operations().front());
    bool saw_s2sz = false;
    for (const auto& field : create.fields())
        if (field.name == "s2sz") {
            EXPECT_EQ(field.value, "41");
            saw_s2sz = true;
        }
    EXPECT_TRUE(saw_s2sz);
    auto events = find_backend("arm-cca").events(plan);
    std::size_t ripas = 0;
    for (const auto& e : events) ripas += e.kind == "ripas";
    EXPECT_EQ(ripas, 1u);
}

std::vector<std::uint8_t> file_bytes(const std::string& path) {
    return cvmtest::read_file(path);
}

TEST(RealmDtb, KvmtoolTreesMatchReference) {
    EXPECT_EQ(Realm("kvmtool", 1, 512 * kMiB).dtb(), file_bytes(vec("kvmtool-k.dtb")));
    // kvmtool-ki.dtb: 2 vCPUs, 1 GiB, the 14-byte initrd, "-p console=hvc0 earlycon".
    EXPECT_EQ(Realm("kvmtool", 2, kGiB)
                  .image(ImageRole::initrd, vec("initrd-14B"))
                  .cmdline("console=hvc0 earlycon")
                  .dtb(),
              file_bytes(vec("kvmtool-ki.dtb")));
}

TEST(RealmDtb, QemuTreeMatchesReference) {
    NEED_VECTOR("crm-testdata-linux.bin");
    EXPECT_EQ(q256().image(ImageRole::kernel, vec("crm-testdata-linux.bin")).dtb(), file_bytes(vec("qemu-k256.dtb")));
}

TEST(RealmDtb, Deterministic) {
    for (const char* layout : {"libcvm", "kvmtool", "qemu"}) {
        auto realm = [&] {
            return Realm(layout, 3, 256 * kMiB).image(ImageRole::kernel, arm64_image())
                .image(ImageRole::initrd, vec("initrd-14B")).cmdline("console=ttyS0");
        };
        EXPECT_EQ(realm().dtb(), realm().dtb()) << layout;
        EXPECT_EQ(realm().rim(), realm().rim()) << layout;
    }
}

} // namespace
