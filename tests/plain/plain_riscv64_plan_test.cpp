// The plain backend's riscv64 plans: a RISC-V Image gets libcvm's riscv64
// machine, with the kernel, initrd and DTB exactly where a riscv-cove TVM of
// the same files has them (a placement checked against kvmtool's own code by
// cove-kvmtool-vectors). The DTB differs only in its devices: a polled
// 16550 instead of the IMSIC and PCI host, and the plain options' host
// values. Runs on every host: plans need no KVM. The DTB is read back with
// libfdt and, where installed, checked by dtc, neither of which is libcvm.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <libfdt.h>
#include <map>
#include <string>

#include "cove_images.hpp"
#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "plan_loads.hpp"

using namespace cvm;
using cvmtest::loads;

namespace {

VmSpec riscv_spec(std::string technology = "plain", unsigned vcpus = 2) {
    VmSpec spec;
    spec.technology = std::move(technology);
    spec.memory.size = 256ull << 20;
    spec.vcpus.count = vcpus;
    spec.cmdline = "console=ttyS0 panic=-1";
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(covetest::riscv_image(), "Image"), true, {}});
    spec.images.push_back({ImageRole::initrd, Payload::from_bytes(covetest::pattern(5000, 3), "initrd"), true, {}});
    return spec;
}

LaunchPlan plan_of(const VmSpec& spec) { return find_backend(spec.technology).build_plan(spec); }

// libfdt reads 32-bit words: an aligned copy of the DTB region.
struct Tree {
    explicit Tree(const op::LoadData& load) : bytes(load.data.bytes().begin(), load.data.bytes().end()) {}
    std::vector<std::uint8_t> bytes;
    const void* fdt() const { return bytes.data(); }
    int node(const char* path) const { return fdt_path_offset(fdt(), path); }
    std::string text(const char* path, const char* property) const {
        int n = node(path);
        if (n < 0) return "<no node>";
        int length = 0;
        auto* value = static_cast<const char*>(fdt_getprop(fdt(), n, property, &length));
        return value ? std::string(value, length > 0 ? length - 1 : 0) : "<no property>";
    }
    std::vector<std::uint32_t> cells(const char* path, const char* property) const {
        int length = 0;
        auto* value = static_cast<const fdt32_t*>(fdt_getprop(fdt(), node(path), property, &length));
        std::vector<std::uint32_t> out;
        for (int i = 0; value && i < length / 4; ++i) out.push_back(fdt32_to_cpu(value[i]));
        return out;
    }
};

std::map<std::string, std::uint64_t> registers(const LaunchPlan& plan) {
    std::map<std::string, std::uint64_t> regs;
    for (const auto& o : plan.operations())
        if (auto* s = std::get_if<op::SetRegisters>(&o))
            for (const auto& r : s->registers) regs[r.name] = r.value;
    return regs;
}

TEST(PlainRiscv64Plan, PlacesEverythingWhereTheCoveLayoutDoes) {
    auto plain = plan_of(riscv_spec());
    auto cove = plan_of(riscv_spec("riscv-cove"));
    auto p = loads(plain), c = loads(cove);
    ASSERT_TRUE(p.count("kernel") && p.count("initrd") && p.count("fdt"));
    for (const char* label : {"kernel", "initrd", "fdt"}) {
        EXPECT_EQ(p[label]->gpa, c[label]->gpa) << label;
        EXPECT_EQ(p[label]->data.size(), c[label]->data.size()) << label;
    }
    // The RISC-V boot protocol: a0 the boot hart, a1 the DTB.
    auto regs = registers(plain);
    EXPECT_EQ(regs["pc"], 0x80200000u);
    EXPECT_EQ(regs["a0"], 0u);
    EXPECT_EQ(regs["a1"], p["fdt"]->gpa);
    EXPECT_EQ(plain.technology(), "plain");
}

TEST(PlainRiscv64Plan, TheDtbDescribesThePlainMachine) {
    auto plan = plan_of(riscv_spec());
    auto l = loads(plan);
    Tree tree(*l["fdt"]);
    ASSERT_EQ(fdt_check_header(tree.fdt()), 0);
    EXPECT_EQ(tree.text("/chosen", "bootargs"), "console=ttyS0 panic=-1");
    auto start = tree.cells("/chosen", "linux,initrd-start");
    auto end = tree.cells("/chosen", "linux,initrd-end");
    ASSERT_EQ(start.size(), 2u);
    ASSERT_EQ(end.size(), 2u);
    EXPECT_EQ((std::uint64_t{start[0]} << 32) | start[1], l["initrd"]->gpa);
    EXPECT_EQ((std::uint64_t{end[0]} << 32) | end[1], l["initrd"]->gpa + 5000);
    EXPECT_EQ(tree.cells("/memory", "reg"), (std::vector<std::uint32_t>{0, 0x80000000, 0, 256u << 20}));
    EXPECT_EQ(tree.cells("/cpus", "timebase-frequency"), std::vector<std::uint32_t>{10000000});
    EXPECT_EQ(tree.text("/cpus/cpu@0", "riscv,isa"), "rv64imafdc");
    EXPECT_EQ(tree.text("/cpus/cpu@1", "riscv,isa"), "rv64imafdc");
    EXPECT_LT(tree.node("/cpus/cpu@2"), 0);
    EXPECT_EQ(tree.text("/cpus/cpu@1/interrupt-controller", "compatible"), "riscv,cpu-intc");
    // The console, polled: no interrupts property and no interrupt parent.
    EXPECT_EQ(tree.text("/smb/U6_16550A@10000000", "compatible"), "ns16550a");
    EXPECT_EQ(tree.cells("/smb/U6_16550A@10000000", "reg"), (std::vector<std::uint32_t>{0, 0x10000000, 0, 8}));
    EXPECT_EQ(tree.text("/smb/U6_16550A@10000000", "interrupts"), "<no property>");
    EXPECT_EQ(tree.text("/smb", "interrupt-parent"), "<no property>");
    EXPECT_EQ(tree.text("/aliases", "serial0"), "/smb/U6_16550A@10000000");
    EXPECT_EQ(tree.text("/chosen", "stdout-path"), "serial0");
    // Nothing the plain launcher does not create.
    EXPECT_LT(tree.node("/imsics@08000000"), 0);
    EXPECT_LT(tree.node("/smb/pci"), 0);
}

TEST(PlainRiscv64Plan, DtcReadsTheTreeWithoutComplaint) {
    if (std::system("command -v dtc >/dev/null 2>&1") != 0) GTEST_SKIP() << "dtc (device-tree-compiler) not installed";
    auto plan = plan_of(riscv_spec());
    auto l = loads(plan);
    char path[] = "/tmp/plain-riscv64-dtb-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    auto bytes = l["fdt"]->data.bytes();
    ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    close(fd);
    std::string command = std::string("dtc -I dtb -O dts -o /dev/null ") + path + " 2>&1";
    FILE* out = popen(command.c_str(), "r");
    ASSERT_NE(out, nullptr);
    std::string messages;
    char buffer[256];
    while (fgets(buffer, sizeof buffer, out)) messages += buffer;
    int status = pclose(out);
    unlink(path);
    EXPECT_EQ(status, 0) << messages;
    // The tree keeps kvmtool's shape, which dtc's style checks flag in two
    // ways Linux does not care about: "memory" without a unit address, and
    // the harts' interrupt controllers without #address-cells. Any other
    // warning is a defect of ours.
    std::string other;
    for (std::size_t at = 0; at < messages.size();) {
        std::size_t end = messages.find('\n', at);
        std::string line = messages.substr(at, end - at);
        at = end == std::string::npos ? messages.size() : end + 1;
        bool known = line.find("(unit_address_vs_reg): /memory:") != std::string::npos ||
                     (line.find("(interrupt_provider):") != std::string::npos &&
                      line.find("/interrupt-controller: Missing #address-cells") != std::string::npos);
        if (!known) other += line + "\n";
    }
    EXPECT_EQ(other, "") << "dtc warned about the tree";
}

TEST(PlainRiscv64Plan, OptionsSetTheHostValues) {
    auto spec = riscv_spec();
    spec.options = {{"isa", "rv64imafdc_sstc_zihintpause"}, {"timebase-frequency", "4000000"}};
    auto plan = plan_of(spec);
    Tree tree(*loads(plan)["fdt"]);
    EXPECT_EQ(tree.text("/cpus/cpu@0", "riscv,isa"), "rv64imafdc_sstc_zihintpause");
    EXPECT_EQ(tree.cells("/cpus", "timebase-frequency"), std::vector<std::uint32_t>{4000000});
    // The launcher checks the host against what the create-vm carries.
    const auto& create = std::get<op::CreateVm>(plan.operations().front());
    std::map<std::string, std::string> params;
    for (const auto& field : create.fields()) params[field.name] = field.value;
    EXPECT_EQ(params["arch"], "riscv64");
    EXPECT_EQ(params["isa"], "rv64imafdc_sstc_zihintpause");
    EXPECT_EQ(params["timebase-frequency"], "4000000");
}

TEST(PlainRiscv64Plan, RefusesWhatThePlainMachineCannotBe) {
    auto refused = [](std::map<std::string, std::string> options, const char* needle) {
        auto spec = riscv_spec();
        spec.options = std::move(options);
        try {
            plan_of(spec);
            ADD_FAILURE() << "accepted, expected an error mentioning " << needle;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    refused({{"isa", "rv64imafdc_ssaia"}}, "no AIA");
    refused({{"isa", "rv64imafdc_zicbom"}}, "cbom-block-size");
    refused({{"isa", "rv64imac"}}, "lacks 'f'");
    refused({{"isa", "rv64imafdc_zba"}}, "not an extension kvmtool reports");
    refused({{"timebase-frequency", "0"}}, "timebase-frequency: '0' is not a number from 1 to");
    refused({{"timebase-frequency", "10MHz"}}, "'10MHz' is not a number");

    auto spec = riscv_spec("plain", 65);
    EXPECT_THROW(plan_of(spec), Error);
    spec.vcpus.count = 64;  // the largest: its DTB still fits
    auto plan = plan_of(spec);
    Tree tree(*loads(plan)["fdt"]);
    EXPECT_GE(tree.node("/cpus/cpu@3f"), 0);

    spec = riscv_spec();
    spec.images.push_back({ImageRole::firmware, Payload::from_bytes(covetest::pattern(64, 1), "fw"), true, {}});
    EXPECT_THROW(plan_of(spec), Error);
}

TEST(PlainRiscv64Plan, RiscvOptionsAreRefusedForOtherGuests) {
    VmSpec spec;
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = 1;
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(covetest::pattern(8192, 2), "bzImage"), true, {}});
    spec.options = {{"isa", "rv64imafdc"}};
    try {
        plan_of(spec);
        FAIL() << "a riscv64 option was accepted for a non-RISC-V kernel";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("applies to riscv64 guests"), std::string::npos) << e.what();
    }
}

} // namespace
