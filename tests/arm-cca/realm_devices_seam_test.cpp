// Every realm layout's launch wires exactly the devices its measured DTB
// declares. The DTB is read with libfdt (not libcvm's writer); the launch
// runs against the CCA host KVM model (rme_kernel_model.hpp), whose vGIC
// and ITS follow vgic-kvm-device.c, vgic-mmio-v3.c and vgic-its.c; the
// guest then touches every MMIO device the tree names, and each answers as
// its kind must (a 16550's line status, a PrimeCell's ID registers, the
// virtio-mmio magic, the fw_cfg signature, an empty PCI bus's all-ones).
// Before the device records, the launcher put the qemu layout's
// redistributors of more than 123 vCPUs in one region where the tree
// declares two, never created the ITS both kvmtool and qemu trees declare,
// and answered the PL011, PL031, fw_cfg and virtio-mmio with zeros.
#include <gtest/gtest.h>

#include <cstring>
#include <libfdt.h>
#include <linux/kvm.h>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "plan_loads.hpp"
#include "rme_kernel_model.hpp"
#include "seam_launch.hpp"
#include "synthetic_images.hpp"
#include "test_paths.hpp"

using namespace cvm;
using cvmtest::cca::Host;
using cvmtest::cca::RmeKernelModel;

namespace {

struct Case {
    const char* layout;
    unsigned vcpus;
};

LaunchPlan plan_for(const Case& c) {
    VmSpec spec;
    spec.technology = "arm-cca";
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = c.vcpus;
    spec.options = {{"abi", "rmi-v14"}, {"rmm", "2.0"}, {"num-bps", "2"}, {"num-wps", "2"}, {"layout", c.layout},
                    {"hash", "sha256"}};  // RMI hosts create every realm with SHA-256
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(cvmtest::synthetic_arm64_image(256, 0x2d10000), "Image"),
                           true, {}});
    return find_backend("arm-cca").build_plan(spec);
}

// The DTB the plan measures, read with libfdt.
class Tree {
public:
    explicit Tree(const LaunchPlan& plan) {
        auto l = cvmtest::loads(plan);
        auto bytes = l.at("dtb")->data.bytes();
        blob_.assign(bytes.begin(), bytes.end());
    }
    // reg of every node compatible with `compatible`, as (base, size) pairs.
    std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> regs(const char* compatible) const {
        std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> out;
        for (int node = fdt_node_offset_by_compatible(blob_.data(), -1, compatible); node >= 0;
             node = fdt_node_offset_by_compatible(blob_.data(), node, compatible)) {
            int length = 0;
            auto* v = static_cast<const fdt32_t*>(fdt_getprop(blob_.data(), node, "reg", &length));
            std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
            for (int i = 0; v && i + 3 < length / 4; i += 4)
                pairs.emplace_back(std::uint64_t{fdt32_to_cpu(v[i])} << 32 | fdt32_to_cpu(v[i + 1]),
                                   std::uint64_t{fdt32_to_cpu(v[i + 2])} << 32 | fdt32_to_cpu(v[i + 3]));
            out.push_back(std::move(pairs));
        }
        return out;
    }

private:
    std::vector<std::uint8_t> blob_;
};

// One MMIO access of the scripted guest and what the launcher answered.
struct Probe {
    std::uint64_t address;
    unsigned size;
    bool write = false;
    std::uint64_t value = 0;  // written, or read back
};

// vCPU 0 makes every probe in order, then powers off; each read's answer
// is taken on the next exit, while kvm_run still holds it.
void script_probes(RmeKernelModel& model, std::vector<Probe>& probes) {
    std::deque<cvmtest::FakeKvm::Exit> exits;
    for (std::size_t i = 0; i <= probes.size(); ++i) {
        exits.push_back([&probes, i](kvm_run& run) {
            if (i > 0 && !probes[i - 1].write) {
                std::uint64_t v = 0;
                std::memcpy(&v, run.mmio.data, probes[i - 1].size);
                probes[i - 1].value = v;
            }
            if (i == probes.size()) {
                run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
                run.system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
                return;
            }
            const Probe& p = probes[i];
            run.exit_reason = KVM_EXIT_MMIO;
            run.mmio.phys_addr = p.address;
            run.mmio.len = p.size;
            run.mmio.is_write = p.write;
            std::memset(run.mmio.data, 0, sizeof run.mmio.data);
            if (p.write) std::memcpy(run.mmio.data, &p.value, p.size);
        });
    }
    model.script(std::move(exits));
}

class EveryLayout : public ::testing::TestWithParam<Case> {};

TEST_P(EveryLayout, TheGicAndItsAreWhereTheTreeSaysForEveryVcpu) {
    const Case c = GetParam();
    auto plan = plan_for(c);
    Tree tree(plan);
    RmeKernelModel model(Host::rmi_v14);
    model.ipa_limit = 48;  // QEMU virt's high PCI window needs 41 bits
    std::vector<Probe> none;
    script_probes(model, none);
    auto result = cvmtest::launch_through(model, plan);
    ASSERT_EQ(result.reason, ExitReason::power_off) << result.detail;
    auto seen = model.seen();
    EXPECT_TRUE(seen.refused.empty()) << seen.refused.front();

    auto gic = tree.regs("arm,gic-v3");
    ASSERT_EQ(gic.size(), 1u);
    ASSERT_GE(gic[0].size(), 2u);
    EXPECT_EQ(seen.gic_dist, gic[0][0].first);
    const std::size_t tree_regions = gic[0].size() - 1;
    ASSERT_EQ(seen.redist_regions.size(), tree_regions);
    if (tree_regions == 1) {
        EXPECT_EQ(seen.redist_regions[0], (std::pair<std::uint64_t, std::uint64_t>{gic[0][1].first, 0}));  // legacy
        EXPECT_GE(gic[0][1].second, std::uint64_t{c.vcpus} * 0x20000);
    } else {
        // Each region holds what its size allows, the last the rest.
        std::uint64_t left = c.vcpus;
        for (std::size_t i = 0; i < tree_regions; ++i) {
            const std::uint64_t fits = gic[0][i + 1].second / 0x20000;
            const std::uint64_t count = i + 1 == tree_regions ? left : std::min(fits, left);
            EXPECT_EQ(seen.redist_regions[i], (std::pair<std::uint64_t, std::uint64_t>{gic[0][i + 1].first, count}));
            left -= count;
        }
    }
    auto its = tree.regs("arm,gic-v3-its");
    if (its.empty()) {
        EXPECT_FALSE(seen.its_base);
    } else {
        ASSERT_EQ(its.size(), 1u);
        EXPECT_EQ(seen.its_base, std::optional<std::uint64_t>(its[0][0].first));
        EXPECT_TRUE(seen.its_initialized);
    }
}

TEST_P(EveryLayout, EveryMmioDeviceOfTheTreeAnswersAsItsKind) {
    const Case c = GetParam();
    auto plan = plan_for(c);
    Tree tree(plan);
    std::vector<Probe> probes;
    std::vector<std::string> expect;  // what each probe's answer must be
    auto read = [&](std::uint64_t address, unsigned size, std::uint64_t want, const std::string& what) {
        probes.push_back({address, size, false, 0});
        expect.push_back(fmt::format("{}={:#x}", what, want));
    };
    auto write = [&](std::uint64_t address, unsigned size, std::uint64_t value) {
        probes.push_back({address, size, true, value});
        expect.emplace_back();
    };
    for (const auto& reg : tree.regs("ns16550a")) read(reg[0].first + 5, 1, 0x60, "16550 LSR");  // THR empty, idle
    for (const auto& reg : tree.regs("arm,pl011")) {
        read(reg[0].first + 0xfe0, 4, 0x11, "PL011 PeriphID0");
        read(reg[0].first + 0xff0, 4, 0x0d, "PL011 CellID0");
    }
    for (const auto& reg : tree.regs("arm,pl031")) read(reg[0].first + 0xfe0, 4, 0x31, "PL031 PeriphID0");
    for (const auto& reg : tree.regs("motorola,mc146818")) {
        write(reg[0].first, 1, 0x0d);
        read(reg[0].first + 1, 1, 0x80, "MC146818 register D");  // valid RAM and time
    }
    for (const auto& reg : tree.regs("virtio,mmio")) {
        read(reg[0].first, 4, 0x74726976, "virtio-mmio magic");
        read(reg[0].first + 8, 4, 0, "virtio-mmio device ID");
    }
    for (const auto& reg : tree.regs("qemu,fw-cfg-mmio")) {
        write(reg[0].first + 8, 2, 0);  // selector 0, big-endian
        read(reg[0].first, 4, 0x554d4551, "fw_cfg signature");  // "QEMU" in item order
    }
    for (const auto& reg : tree.regs("pci-host-ecam-generic"))
        read(reg[0].first, 4, 0xffffffff, "PCI 00:00.0 vendor/device");  // nothing on the bus
    ASSERT_FALSE(probes.empty());

    RmeKernelModel model(Host::rmi_v14);
    model.ipa_limit = 48;
    script_probes(model, probes);
    auto result = cvmtest::launch_through(model, plan);
    ASSERT_EQ(result.reason, ExitReason::power_off) << result.detail;
    for (std::size_t i = 0; i < probes.size(); ++i) {
        if (probes[i].write) continue;
        const std::string what = expect[i].substr(0, expect[i].find('='));
        EXPECT_EQ(fmt::format("{}={:#x}", what, probes[i].value), expect[i]) << fmt::format("at {:#x}", probes[i].address);
    }
}

INSTANTIATE_TEST_SUITE_P(Layouts, EveryLayout,
                         ::testing::Values(Case{"libcvm", 2}, Case{"kvmtool", 2}, Case{"qemu", 2},
                                           Case{"qemu", 130}),
                         [](const auto& info) { return fmt::format("{}_{}vcpus", info.param.layout, info.param.vcpus); });

// A launcher refuses a device it cannot provide rather than launch a guest
// whose tree promises it: a plan with a second GICv3 is not launched.
TEST(RealmDevices, APlanWithADeviceTheLauncherCannotProvideIsRefused) {
    auto plan = plan_for({"libcvm", 1});
    LaunchPlan doubled(plan.technology(), plan.algorithm());
    for (const auto& o : plan.operations()) {
        doubled.add(o);
        if (auto* d = std::get_if<op::AddDevice>(&o); d && d->kind == DeviceKind::gic_v3) doubled.add(*d);
    }
    RmeKernelModel model(Host::rmi_v14);
    EXPECT_THROW(cvmtest::launch_through(model, doubled), Error);
}

} // namespace
