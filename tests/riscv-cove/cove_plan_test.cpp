// The riscv-cove planner: kvmtool's layout, the generated DTB read back with
// libfdt, malformed RISC-V Image headers, and the prediction of whole plans
// against an independent computation over the plan's own loads.
#include <gtest/gtest.h>

#include <libfdt.h>

#include "cove_images.hpp"
#include "cvm/backend.hpp"
#include "cvm/error.hpp"

using namespace cvm;

namespace {

const Backend& cove() { return find_backend("riscv-cove"); }

VmSpec spec_with(std::vector<std::uint8_t> kernel, std::size_t initrd_size = 0, unsigned vcpus = 1) {
    VmSpec spec;
    spec.technology = "riscv-cove";
    spec.memory.size = 256ull << 20;
    spec.vcpus.count = vcpus;
    spec.cmdline = "console=ttyS0 earlycon";
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(std::move(kernel), "Image"), true, {}});
    if (initrd_size)
        spec.images.push_back({ImageRole::initrd, Payload::from_bytes(covetest::pattern(initrd_size, 9), "initrd"), true, {}});
    return spec;
}

std::vector<const op::LoadData*> loads(const LaunchPlan& plan) {
    std::vector<const op::LoadData*> out;
    for (const auto& o : plan.operations())
        if (auto* l = std::get_if<op::LoadData>(&o)) out.push_back(l);
    return out;
}

const op::SetRegisters& registers(const LaunchPlan& plan) {
    for (const auto& o : plan.operations())
        if (auto* r = std::get_if<op::SetRegisters>(&o)) return *r;
    throw std::runtime_error("no set-registers");
}

std::uint64_t reg(const LaunchPlan& plan, const std::string& name) {
    for (const auto& r : registers(plan).registers)
        if (r.name == name) return r.value;
    throw std::runtime_error("no register " + name);
}

TEST(CovePlan, KvmtoolLayoutAndOrder) {
    auto kernel = covetest::riscv_image();  // 12411 bytes
    auto plan = cove().build_plan(spec_with(kernel, 10000, 2));
    std::vector<std::string> kinds;
    for (const auto& o : plan.operations()) kinds.emplace_back(operation_name(o));
    EXPECT_EQ(kinds, (std::vector<std::string>{"create-vm", "add-memory", "add-device", "add-device", "load-data",
                                               "load-data", "create-vcpus", "load-data", "set-registers",
                                               "finalize"}));
    // kvmtool's TVM devices: the AIA IMSICs (one 4 KiB file per hart) and the PCI host.
    auto imsic = plan.devices(DeviceKind::riscv_imsic);
    ASSERT_EQ(imsic.size(), 1u);
    EXPECT_EQ(imsic[0]->regions[0].base, 0x08000000u);
    EXPECT_EQ(imsic[0]->regions[0].size, 2 * 0x1000u);
    EXPECT_EQ(plan.devices(DeviceKind::pci_ecam_host).size(), 1u);
    auto mem = std::get<op::AddMemory>(plan.operations()[1]);
    EXPECT_EQ(mem.gpa, 0x80000000u);
    EXPECT_EQ(mem.size, 256ull << 20);
    EXPECT_TRUE(mem.confidential);

    auto l = loads(plan);
    ASSERT_EQ(l.size(), 3u);
    EXPECT_EQ(l[0]->gpa, 0x80200000u);  // RAM + 2 MiB
    EXPECT_EQ(l[0]->data.size(), kernel.size());
    // The initrd ends below RAM + min(RAM, 256 MiB) - 1, page aligned:
    // ALIGN(0x8fffffff - (10000 + 4096), 4096).
    EXPECT_EQ(l[1]->gpa, (0x8fffffffull - (10000 + 4096) + 4095) / 4096 * 4096);
    EXPECT_EQ(l[1]->label, "initrd");
    // The FDT at ALIGN(kernel end + 4 MiB, 4 MiB), all 64 KiB of it.
    EXPECT_EQ(l[2]->gpa, (0x80200000ull + kernel.size() + (4u << 20) + (4u << 20) - 1) / (4u << 20) * (4u << 20));
    EXPECT_EQ(l[2]->gpa, 0x80800000u);
    EXPECT_EQ(l[2]->data.size(), 0x10000u);
    for (auto* load : l) EXPECT_TRUE(load->measured);

    EXPECT_EQ(registers(plan).vcpu, 0u);
    EXPECT_EQ(reg(plan, "pc"), 0x80200000u);
    EXPECT_EQ(reg(plan, "a0"), 0u);
    EXPECT_EQ(reg(plan, "a1"), 0x80800000u);
}

TEST(CovePlan, LargerKernelMovesTheFdt) {
    auto plan = cove().build_plan(spec_with(covetest::riscv_image(0x500000, 0x600000)));
    // ALIGN(0x80200000 + 0x500000 + 0x400000, 0x400000) = ALIGN(0x80b00000) = 0x80c00000
    EXPECT_EQ(reg(plan, "a1"), 0x80c00000u);
}

// The tree's shape as kvmtool's CoVE branch writes it (riscv/fdt.c, aia.c,
// pci.c at 02924a3), read back with libfdt. The bytes themselves are checked
// against kvmtool's own output in cove_kvmtool_vectors_test.cpp.
TEST(CovePlan, GeneratedDtbContents) {
    auto plan = cove().build_plan(spec_with(covetest::riscv_image(), 10000, 3));
    auto fdt_load = loads(plan)[2];
    const void* fdt = fdt_load->data.bytes().data();
    ASSERT_EQ(fdt_check_full(fdt, fdt_load->data.size()), 0);
    ASSERT_LT(fdt_totalsize(fdt), 0x10000u);
    // fdt_pack moved the blocks 8 bytes down: the old strings block's last
    // 8 bytes stay behind; everything after them is zero. Both are measured.
    auto bytes = fdt_load->data.bytes();
    EXPECT_EQ(fdt_off_mem_rsvmap(fdt), 40u);
    for (std::size_t i = fdt_totalsize(fdt) + 8; i < bytes.size(); ++i) ASSERT_EQ(bytes[i], 0) << i;

    auto string_prop = [&](const char* path, const char* name) {
        int node = fdt_path_offset(fdt, path);
        EXPECT_GE(node, 0) << path;
        int len = 0;
        auto* p = static_cast<const char*>(fdt_getprop(fdt, node, name, &len));
        return p ? std::string(p, len > 0 ? len - 1 : 0) : std::string("<missing>");
    };
    auto cells = [&](const char* path, const char* name) {
        int node = fdt_path_offset(fdt, path);
        int len = 0;
        auto* p = static_cast<const std::uint8_t*>(fdt_getprop(fdt, node, name, &len));
        std::vector<std::uint32_t> out;
        for (int i = 0; p && i + 4 <= len; i += 4) out.push_back(fdt32_ld(reinterpret_cast<const fdt32_t*>(p + i)));
        return out;
    };
    using V = std::vector<std::uint32_t>;
    EXPECT_EQ(string_prop("/chosen", "bootargs"), "console=ttyS0 earlycon");
    EXPECT_EQ(string_prop("/chosen", "stdout-path"), "serial0");
    auto initrd = loads(plan)[1];
    EXPECT_EQ(cells("/chosen", "linux,initrd-start"), (V{0, static_cast<std::uint32_t>(initrd->gpa)}));
    EXPECT_EQ(cells("/chosen", "linux,initrd-end"), (V{0, static_cast<std::uint32_t>(initrd->gpa + 10000)}));
    EXPECT_EQ(string_prop("/memory", "device_type"), "memory");
    EXPECT_EQ(cells("/memory", "reg"), (V{0, 0x80000000u, 0, 256u << 20}));
    for (unsigned cpu = 0; cpu < 3; ++cpu) {
        std::string path = "/cpus/cpu@" + std::to_string(cpu);
        EXPECT_EQ(string_prop(path.c_str(), "riscv,isa"), "rv64imafdc_ssaia_sstc_zihintpause_zicbom");
        EXPECT_EQ(string_prop(path.c_str(), "mmu-type"), "riscv,sv48");
        EXPECT_EQ(cells(path.c_str(), "riscv,cbom-block-size"), V{64});
        std::string intc = path + "/interrupt-controller";
        EXPECT_EQ(string_prop(intc.c_str(), "compatible"), "riscv,cpu-intc");
        EXPECT_EQ(cells(intc.c_str(), "phandle"), V{4 + cpu});  // after the fixed phandles
    }
    EXPECT_LT(fdt_path_offset(fdt, "/cpus/cpu@3"), 0);
    EXPECT_EQ(cells("/imsics@08000000", "reg"), (V{0, 0x08000000u, 0, 3 * 0x1000u}));
    EXPECT_EQ(cells("/imsics@08000000", "riscv,num-ids"), V{255});
    EXPECT_EQ(cells("/imsics@08000000", "phandle"), V{3});
    EXPECT_EQ(cells("/imsics@08000000", "interrupts-extended"), (V{4, 9, 5, 9, 6, 9}));
    EXPECT_EQ(cells("/smb", "interrupt-parent"), V{2});
    EXPECT_EQ(string_prop("/smb/pci", "compatible"), "pci-host-ecam-generic");
    EXPECT_EQ(cells("/smb/pci", "msi-parent"), V{3});
    EXPECT_EQ(fdt_getprop(fdt, fdt_path_offset(fdt, "/smb/pci"), "interrupt-map", nullptr), nullptr);
    // No UART, no APLIC, no aliases: a CoVE TVM's console is SBI.
    EXPECT_EQ(fdt_subnode_offset(fdt, fdt_path_offset(fdt, "/smb"), "serial@10000000"), -FDT_ERR_NOTFOUND);
    EXPECT_LT(fdt_path_offset(fdt, "/aliases"), 0);
    EXPECT_LT(fdt_path_offset(fdt, "/soc"), 0);
}

TEST(CovePlan, DtbIsDeterministicAndFollowsOptions) {
    auto a = cove().build_plan(spec_with(covetest::riscv_image()));
    auto b = cove().build_plan(spec_with(covetest::riscv_image()));
    auto da = loads(a)[1]->data.bytes(), db = loads(b)[1]->data.bytes();
    EXPECT_TRUE(std::equal(da.begin(), da.end(), db.begin(), db.end()));
    EXPECT_EQ(cove().predict(a).value, cove().predict(b).value);

    auto spec = spec_with(covetest::riscv_image());
    spec.options["isa"] = "rv64imafdcvh_ssaia_svpbmt";
    spec.options["imsic-num-ids"] = "127";
    auto c = cove().build_plan(spec);
    const void* fdt = loads(c)[1]->data.bytes().data();
    int cpu = fdt_path_offset(fdt, "/cpus/cpu@0");
    EXPECT_STREQ(static_cast<const char*>(fdt_getprop(fdt, cpu, "riscv,isa", nullptr)), "rv64imafdcvh_ssaia_svpbmt");
    // Without Zicbom kvmtool never asks for the block size.
    EXPECT_EQ(fdt_getprop(fdt, cpu, "riscv,cbom-block-size", nullptr), nullptr);
    auto* ids = static_cast<const fdt32_t*>(fdt_getprop(fdt, fdt_path_offset(fdt, "/imsics@08000000"), "riscv,num-ids", nullptr));
    ASSERT_NE(ids, nullptr);
    EXPECT_EQ(fdt32_ld(ids), 127u);
    EXPECT_NE(cove().predict(a).value, cove().predict(c).value);
}

TEST(CovePlan, BadOptionsAreRefused) {
    auto with = [](const char* key, const char* value) {
        auto spec = spec_with(covetest::riscv_image());
        spec.options[key] = value;
        return spec;
    };
    EXPECT_THROW(cove().build_plan(with("isa", "RV64GC")), Error);
    EXPECT_THROW(cove().build_plan(with("isa", "rv32imac_ssaia")), Error);
    EXPECT_THROW(cove().build_plan(with("isa", "rv64imafdc")), Error);            // no Ssaia: a PLIC tree
    EXPECT_THROW(cove().build_plan(with("isa", "rv64imafcd_ssaia")), Error);      // letters out of kvmtool's order
    EXPECT_THROW(cove().build_plan(with("isa", "rv64imafdc_zicsr_ssaia")), Error);  // not in kvmtool's table
    EXPECT_THROW(cove().build_plan(with("isa", "rv64imafdc_sstc_ssaia")), Error); // table order
    EXPECT_THROW(cove().build_plan(with("isa", "rv64imafdc_ssaia_ssaia")), Error);
    EXPECT_THROW(cove().build_plan(with("timebase-frequency", "10MHz")), Error);
    EXPECT_THROW(cove().build_plan(with("timebase-frequency", "0")), Error);
    EXPECT_THROW(cove().build_plan(with("imsic-num-ids", "256")), Error);
    EXPECT_THROW(cove().build_plan(with("imsic-num-ids", "4095")), Error);
    EXPECT_THROW(cove().build_plan(with("cbom-block-size", "48")), Error);
    EXPECT_THROW(cove().build_plan(with("mmu-type", "sv48")), Error);  // kvmtool always writes riscv,sv48
    EXPECT_THROW(cove().build_plan(with("tsm-abi", "v1.0")), Error);
    EXPECT_THROW(cove().build_plan(with("no-such-option", "1")), Error);
    auto nul = spec_with(covetest::riscv_image());
    nul.cmdline = std::string("console=hvc0\0x", 14);
    EXPECT_THROW(cove().build_plan(nul), Error);
}

// Salus's VM_CPUS_MAX: TvmCpuCreate refuses vCPU id 128.
TEST(CovePlan, SalusVcpuLimit) {
    EXPECT_NO_THROW(cove().build_plan(spec_with(covetest::riscv_image(), 0, 128)));
    try {
        cove().build_plan(spec_with(covetest::riscv_image(), 0, 129));
        ADD_FAILURE() << "129 vCPUs accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("1 to 128"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("TvmCpuCreate"), std::string::npos) << e.what();
    }
    EXPECT_THROW(cove().build_plan(spec_with(covetest::riscv_image(), 0, 255)), Error);
}

struct BadHeader {
    const char* what;
    std::size_t offset;
    std::function<void(std::vector<std::uint8_t>&)> corrupt;
};

TEST(CovePlan, MalformedImageHeadersAreLocated) {
    std::vector<BadHeader> cases{
        {"magic", 0x38, [](auto& b) { b[56] = 'X'; b[48] = 'X'; }},
        {"image_size", 16, [](auto& b) { covetest::put64(b, 16, 0); }},
        {"endianness", 24, [](auto& b) { covetest::put64(b, 24, 1); }},
        {"version", 32, [](auto& b) { covetest::put32(b, 32, 1); }},
        {"text_offset", 8, [](auto& b) { covetest::put64(b, 8, 0x400000); }},
    };
    for (const auto& c : cases) {
        auto image = covetest::riscv_image();
        c.corrupt(image);
        try {
            cove().build_plan(spec_with(image));
            ADD_FAILURE() << c.what << " accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.where(), "Image") << c.what;
            ASSERT_TRUE(e.offset().has_value()) << c.what << ": " << e.what();
            EXPECT_EQ(*e.offset(), c.offset) << c.what << ": " << e.what();
        }
    }
    try {
        cove().build_plan(spec_with(std::vector<std::uint8_t>(40, 0)));
        ADD_FAILURE() << "a 40-byte kernel accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.offset().value_or(99), 0u) << e.what();
    }
}

TEST(CovePlan, LayoutsThatDoNotFitAreRefused) {
    auto small = spec_with(covetest::riscv_image());
    small.memory.size = 4ull << 20;  // the FDT at 8 MiB does not fit
    EXPECT_THROW(cove().build_plan(small), Error);
    auto odd = spec_with(covetest::riscv_image());
    odd.memory.size = (64ull << 20) + 100;
    EXPECT_THROW(cove().build_plan(odd), Error);
    // image_size (with .bss) reaching past the FDT.
    EXPECT_THROW(cove().build_plan(spec_with(covetest::riscv_image(0x1000, 0x700000))), Error);
    // An initrd that would run into the FDT.
    auto big = spec_with(covetest::riscv_image(), 0);
    big.memory.size = 16ull << 20;
    big.images.push_back({ImageRole::initrd, Payload::from_bytes(covetest::pattern(9 << 20, 1), "initrd"), true, {}});
    EXPECT_THROW(cove().build_plan(big), Error);
    auto firmware = spec_with(covetest::riscv_image());
    firmware.images.push_back({ImageRole::firmware, Payload::from_bytes({1, 2, 3}, "fw"), true, {}});
    EXPECT_THROW(cove().build_plan(firmware), Error);
    auto unmeasured = spec_with(covetest::riscv_image());
    unmeasured.images[0].measured = false;
    EXPECT_THROW(cove().build_plan(unmeasured), Error);
}

TEST(CovePlan, UserDtbGetsChosenAndIsMeasuredWhole) {
    // A minimal tree built here with libfdt's sequential writer.
    std::vector<std::uint8_t> user(512, 0);
    ASSERT_EQ(fdt_create(user.data(), 512), 0);
    fdt_finish_reservemap(user.data());
    fdt_begin_node(user.data(), "");
    fdt_property_string(user.data(), "model", "user board");
    fdt_end_node(user.data());
    ASSERT_EQ(fdt_finish(user.data()), 0);
    user.resize(fdt_totalsize(user.data()));

    auto spec = spec_with(covetest::riscv_image(), 5000);
    spec.images.push_back({ImageRole::dtb, Payload::from_bytes(user, "board.dtb"), true, {}});
    auto plan = cove().build_plan(spec);
    auto fdt_load = loads(plan)[2];
    EXPECT_EQ(fdt_load->data.size(), 0x10000u);
    const void* fdt = fdt_load->data.bytes().data();
    ASSERT_EQ(fdt_check_full(fdt, 0x10000), 0);
    EXPECT_STREQ(static_cast<const char*>(fdt_getprop(fdt, 0, "model", nullptr)), "user board");
    int chosen = fdt_path_offset(fdt, "/chosen");
    EXPECT_STREQ(static_cast<const char*>(fdt_getprop(fdt, chosen, "bootargs", nullptr)), "console=ttyS0 earlycon");
    int len = 0;
    auto* start = static_cast<const fdt64_t*>(fdt_getprop(fdt, chosen, "linux,initrd-start", &len));
    ASSERT_EQ(len, 8);
    EXPECT_EQ(fdt64_ld(start), loads(plan)[1]->gpa);  // properties are only 4-byte aligned

    auto broken = user;
    broken[0] = 0;
    spec.images.back().payload = Payload::from_bytes(broken, "board.dtb");
    try {
        cove().build_plan(spec);
        ADD_FAILURE() << "a DTB without magic accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.where(), "board.dtb");
        EXPECT_EQ(e.offset().value_or(99), 0u);
    }
    // Header versions libfdt reads but fdt_check_full crashes on (version
    // and last_comp_version 2 segfault libfdt 1.6.1): refused at the
    // version field before libfdt walks the tree.
    for (std::uint32_t version : {15u, 2u, 1u, 18u}) {
        auto old = user;
        covetest::put32(old, 20, __builtin_bswap32(version));  // version
        covetest::put32(old, 24, __builtin_bswap32(std::min(version, 16u)));  // last_comp_version
        spec.images.back().payload = Payload::from_bytes(old, "board.dtb");
        try {
            cove().build_plan(spec);
            ADD_FAILURE() << "version " << version << " accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.where(), "board.dtb");
            EXPECT_EQ(e.offset().value_or(99), 20u) << e.what();
        }
    }
    auto truncated = user;
    truncated.resize(user.size() - 8);
    spec.images.back().payload = Payload::from_bytes(truncated, "board.dtb");
    EXPECT_THROW(cove().build_plan(spec), Error);
}

// The whole prediction against the documented model computed here: PCR2
// over every load of the plan in order, page by page; PCR3 from pc and a1.
TEST(CovePredict, WholePlanMatchesIndependentComputation) {
    for (std::size_t initrd : {std::size_t{0}, std::size_t{4096}, std::size_t{70001}}) {
        auto plan = cove().build_plan(spec_with(covetest::riscv_image(9 * 4096 + 5), initrd, 2));
        std::vector<std::uint8_t> pcr2(48, 0), zero(48, 0);
        for (auto* l : loads(plan)) covetest::extend_pages(pcr2, l->gpa, l->data.bytes().data(), l->data.size());
        auto step = covetest::Sha384().add(zero).le64(reg(plan, "pc")).done();
        auto pcr3 = covetest::Sha384().add(step).le64(reg(plan, "a1")).done();
        auto tci = covetest::Sha384().add(zero).add(zero).add(pcr2).add(pcr3).done();

        auto m = cove().predict(plan);
        EXPECT_EQ(m.technology, "riscv-cove");
        EXPECT_EQ(m.value.algorithm(), HashAlgorithm::sha384);
        EXPECT_EQ(m.value.hex(), covetest::hex(pcr2)) << "initrd " << initrd;
        ASSERT_EQ(m.registers.size(), 5u);
        EXPECT_EQ(m.registers[0].name, "pcr0");
        EXPECT_EQ(m.registers[0].value.hex(), covetest::hex(zero));
        EXPECT_EQ(m.registers[1].value.hex(), covetest::hex(zero));
        EXPECT_EQ(m.registers[2].value.hex(), covetest::hex(pcr2));
        EXPECT_EQ(m.registers[3].name, "pcr3");
        EXPECT_EQ(m.registers[3].value.hex(), covetest::hex(pcr3));
        EXPECT_EQ(m.registers[4].name, "tci");
        EXPECT_EQ(m.registers[4].value.hex(), covetest::hex(tci));
    }
}

TEST(CovePredict, FailsClosedOnWhatTheModelDoesNotCover) {
    auto base = cove().build_plan(spec_with(covetest::riscv_image()));
    auto rebuilt = [&](auto edit) {
        LaunchPlan plan("riscv-cove", HashAlgorithm::sha384);
        for (auto o : base.operations()) {
            if (edit(o)) plan.add(o);
        }
        return plan;
    };
    // TSM ABI v0.7: the plan is made, the prediction refused.
    auto spec = spec_with(covetest::riscv_image());
    spec.options["tsm-abi"] = "v0.7";
    EXPECT_THROW(cove().predict(cove().build_plan(spec)), Error);
    // An unmeasured load.
    EXPECT_THROW(cove().predict(rebuilt([](Operation& o) {
        if (auto* l = std::get_if<op::LoadData>(&o)) l->measured = false;
        return true;
    })), Error);
    // Shared memory.
    EXPECT_THROW(cove().predict(rebuilt([](Operation& o) {
        if (auto* m = std::get_if<op::AddMemory>(&o)) m->confidential = false;
        return true;
    })), Error);
    // No finalize.
    EXPECT_THROW(cove().predict(rebuilt([](Operation& o) { return !std::holds_alternative<op::Finalize>(o); })), Error);
    // A register the TSM does not take from the VMM.
    EXPECT_THROW(cove().predict(rebuilt([](Operation& o) {
        if (auto* r = std::get_if<op::SetRegisters>(&o)) r->registers.push_back({"sp", 1});
        return true;
    })), Error);
    // A load outside the confidential region.
    EXPECT_THROW(cove().predict(rebuilt([](Operation& o) {
        if (auto* l = std::get_if<op::LoadData>(&o)) l->gpa = 0x1000;
        return true;
    })), Error);
    // Another technology's plan.
    EXPECT_THROW(cove().predict(LaunchPlan("plain", HashAlgorithm::sha384)), Error);
}

} // namespace
