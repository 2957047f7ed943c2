// The plain backend's layout rules: what the plan loads where, checked
// against the x86 boot protocol and ACPI rules rather than against itself.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "plan_loads.hpp"
#include "synthetic_images.hpp"

using namespace cvm;
using cvmtest::get;

namespace {

VmSpec spec_with(std::vector<std::uint8_t> kernel, std::size_t initrd_size = 3000, unsigned vcpus = 2) {
    VmSpec spec;
    spec.memory.size = 64ull << 20;
    spec.vcpus.count = vcpus;
    spec.cmdline = "console=ttyS0 hello";
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(std::move(kernel), "kernel"), true, {}});
    if (initrd_size) {
        std::vector<std::uint8_t> initrd(initrd_size, 0x5a);
        spec.images.push_back({ImageRole::initrd, Payload::from_bytes(std::move(initrd), "initrd"), true, {}});
    }
    return spec;
}

using cvmtest::loads;

std::uint8_t sum(ByteSpan bytes) {
    std::uint8_t s = 0;
    for (auto b : bytes) s = static_cast<std::uint8_t>(s + b);
    return s;
}

TEST(PlainPlan, OperationOrder) {
    auto plan = find_backend("plain").build_plan(spec_with(cvmtest::synthetic_bzimage()));
    std::vector<std::string> names;
    for (const auto& o : plan.operations()) names.emplace_back(operation_name(o));
    std::vector<std::string> expected{"create-vm", "add-memory", "add-device", "add-device", "add-device",
                                      "add-device", "add-device", "load-data", "load-data", "load-data",
                                      "load-data", "load-data", "load-data", "load-data", "create-vcpus",
                                      "set-registers", "finalize"};
    EXPECT_EQ(names, expected);
}

// The PC machine's devices are records, and the ACPI tables name the same
// ports, interrupt and addresses (read from the table bytes at the offsets
// of the ACPI 6.x FADT and MADT).
TEST(PlainPlan, AcpiTablesDescribeTheDeviceRecords) {
    auto plan = find_backend("plain").build_plan(spec_with(cvmtest::synthetic_bzimage(), 3000, 3));
    auto pm1 = plan.devices(DeviceKind::acpi_pm1);
    auto irqchip = plan.devices(DeviceKind::x86_irqchip);
    auto uart = plan.devices(DeviceKind::uart_16550);
    ASSERT_EQ(pm1.size(), 1u);
    ASSERT_EQ(irqchip.size(), 1u);
    ASSERT_EQ(uart.size(), 1u);
    EXPECT_EQ(uart[0]->regions[0].space, op::AddressSpace::pio);
    EXPECT_EQ(uart[0]->regions[0].base, 0x3f8u);
    EXPECT_EQ(uart[0]->interrupt, std::optional<std::uint32_t>(4));

    auto l = loads(plan);
    auto acpi = l["acpi"]->data.bytes();
    auto find = [&](const char* signature) {
        for (std::size_t at = 0; at + 4 <= acpi.size(); at += 4)
            if (std::memcmp(acpi.data() + at, signature, 4) == 0) return at;
        return std::size_t{0};
    };
    auto u32 = [&](std::size_t at) {
        std::uint32_t v;
        std::memcpy(&v, acpi.data() + at, 4);
        return v;
    };
    const std::size_t fadt = find("FACP"), madt = find("APIC");
    ASSERT_NE(fadt, 0u);
    ASSERT_NE(madt, 0u);
    EXPECT_EQ(acpi[fadt + 46] | acpi[fadt + 47] << 8, static_cast<int>(*pm1[0]->interrupt));  // SCI_INT
    EXPECT_EQ(u32(fadt + 56), pm1[0]->regions[0].base);                                     // PM1a_EVT_BLK
    EXPECT_EQ(u32(fadt + 64), pm1[0]->regions[0].base + 4);                                 // PM1a_CNT_BLK
    EXPECT_EQ(u32(madt + 36), irqchip[0]->regions[1].base);                                 // local APIC
    EXPECT_EQ(u32(madt + 44 + 8 * 3 + 4), irqchip[0]->regions[0].base);                     // the IOAPIC entry
}

TEST(PlainPlan, BootProtocolPlacement) {
    auto kernel = cvmtest::synthetic_bzimage();
    auto plan = find_backend("plain").build_plan(spec_with(kernel));
    auto l = loads(plan);
    ASSERT_TRUE(l.count("kernel") && l.count("initrd") && l.count("boot-params") && l.count("cmdline"));

    // The protected-mode part (after 1 + setup_sects sectors) goes to 1 MiB.
    EXPECT_EQ(l["kernel"]->gpa, 0x100000u);
    ASSERT_EQ(l["kernel"]->data.size(), kernel.size() - 5 * 512);
    EXPECT_TRUE(std::equal(kernel.begin() + 5 * 512, kernel.end(), l["kernel"]->data.bytes().begin()));

    // Initrd: page aligned, ends at or below the end of RAM (64 MiB), above the kernel.
    auto initrd = l["initrd"];
    EXPECT_EQ(initrd->gpa % 4096, 0u);
    EXPECT_LE(initrd->gpa + 3000, 64ull << 20);
    EXPECT_GT(initrd->gpa + 4096 + 3000, 64ull << 20);  // as high as it goes

    const auto* zp = l["boot-params"]->data.bytes().data();
    EXPECT_EQ(l["boot-params"]->data.size(), 4096u);
    EXPECT_EQ(get<std::uint32_t>(zp + 0x202), 0x53726448u);          // header copied: "HdrS"
    EXPECT_EQ(zp[0x210], 0xff);                                     // type_of_loader
    EXPECT_EQ(get<std::uint32_t>(zp + 0x228), l["cmdline"]->gpa);   // cmd_line_ptr
    EXPECT_EQ(get<std::uint32_t>(zp + 0x218), initrd->gpa);          // ramdisk_image
    EXPECT_EQ(get<std::uint32_t>(zp + 0x21c), 3000u);                // ramdisk_size
    EXPECT_EQ(get<std::uint64_t>(zp + 0x070), l["acpi"]->gpa);       // acpi_rsdp_addr

    // e820: RAM below the EBDA, reserved BIOS area, RAM from 1 MiB to the end.
    ASSERT_EQ(zp[0x1e8], 3);
    auto e820 = [&](int i, int field) { return get<std::uint64_t>(zp + 0x2d0 + 20 * i + 8 * field); };
    EXPECT_EQ(e820(0, 0), 0u);
    EXPECT_EQ(get<std::uint32_t>(zp + 0x2d0 + 20 * 1 + 16), 2u);
    EXPECT_EQ(e820(2, 0), 0x100000u);
    EXPECT_EQ(e820(2, 0) + e820(2, 1), 64ull << 20);

    std::string cmdline(reinterpret_cast<const char*>(l["cmdline"]->data.bytes().data()));
    EXPECT_EQ(cmdline, "console=ttyS0 hello");
}

TEST(PlainPlan, AcpiTablesAreValidAndCountCpus) {
    auto plan = find_backend("plain").build_plan(spec_with(cvmtest::synthetic_bzimage(), 0, 3));
    auto acpi = loads(plan)["acpi"];
    auto bytes = acpi->data.bytes();
    auto at = [&](std::uint64_t gpa) { return bytes.data() + (gpa - acpi->gpa); };
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), 8), "RSD PTR ");
    EXPECT_EQ(sum(bytes.subspan(0, 20)), 0);
    EXPECT_EQ(sum(bytes.subspan(0, 36)), 0);
    auto xsdt = at(get<std::uint64_t>(bytes.data() + 24));
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(xsdt), 4), "XSDT");
    auto table_ok = [&](const std::uint8_t* t) { return sum(ByteSpan(t, get<std::uint32_t>(t + 4))) == 0; };
    EXPECT_TRUE(table_ok(xsdt));
    unsigned cpus = 0;
    std::uint32_t pm1a = 0;
    for (unsigned i = 0; i < (get<std::uint32_t>(xsdt + 4) - 36) / 8; ++i) {
        auto t = at(get<std::uint64_t>(xsdt + 36 + 8 * i));
        EXPECT_TRUE(table_ok(t));
        std::string sig(reinterpret_cast<const char*>(t), 4);
        if (sig == "APIC") {
            for (std::uint32_t off = 44; off < get<std::uint32_t>(t + 4); off += t[off + 1])
                if (t[off] == 0 && (get<std::uint32_t>(t + off + 4) & 1)) ++cpus;
        }
        if (sig == "FACP") {
            pm1a = get<std::uint32_t>(t + 64);
            auto dsdt = at(get<std::uint32_t>(t + 40));
            EXPECT_TRUE(table_ok(dsdt));
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(dsdt), 4), "DSDT");
        }
    }
    EXPECT_EQ(cpus, 3u);
    EXPECT_EQ(pm1a, 0x604u);
}

TEST(PlainPlan, RejectsWhatItCannotBoot) {
    const auto& plain = find_backend("plain");
    auto expect_error = [&](VmSpec spec, const std::string& fragment) {
        try {
            plain.build_plan(spec);
            ADD_FAILURE() << "no error, expected: " << fragment;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        }
    };
    VmSpec no_kernel;
    expect_error(no_kernel, "needs a kernel");

    auto long_cmdline = spec_with(cvmtest::synthetic_bzimage());
    long_cmdline.cmdline.assign(3000, 'x');
    expect_error(long_cmdline, "command line is 3000 bytes, the kernel accepts at most 2047");

    auto small = spec_with(cvmtest::synthetic_bzimage());
    small.memory.size = 8ull << 20;
    expect_error(small, "at least 16 MiB");

    auto option = spec_with(cvmtest::synthetic_bzimage());
    option.options["rmm"] = "1.0";
    expect_error(option, "technology 'plain' has no option 'rmm'");

    auto firmware = spec_with(cvmtest::synthetic_bzimage());
    firmware.images.push_back({ImageRole::firmware, Payload::from_bytes({1, 2, 3}, "fw"), true, {}});
    expect_error(firmware, "expected whole 4 KiB pages");

    auto huge_initrd = spec_with(cvmtest::synthetic_bzimage(), 70ull << 20);
    expect_error(huge_initrd, "does not fit");

    auto blob_over_kernel = spec_with(cvmtest::synthetic_bzimage());
    blob_over_kernel.images.push_back({ImageRole::blob, Payload::from_bytes({1, 2, 3}, "b"), true, 0x100010});
    expect_error(blob_over_kernel, "the plan loads blob at [0x100010, +0x3) over kernel");

    auto blob_outside = spec_with(cvmtest::synthetic_bzimage());
    blob_outside.images.push_back({ImageRole::blob, Payload::from_bytes({1, 2, 3}, "b"), true, 0x80000000});
    expect_error(blob_outside, "outside the guest memory");

    EXPECT_THROW(find_backend("tdx"), Error);
}

TEST(PlainPlan, DeterministicAndPrintable) {
    auto a = find_backend("plain").build_plan(spec_with(cvmtest::synthetic_bzimage()));
    auto b = find_backend("plain").build_plan(spec_with(cvmtest::synthetic_bzimage()));
    EXPECT_EQ(a.to_json(), b.to_json());
    EXPECT_NE(a.to_text().find("set-registers vcpu 0 rip=0x100200 rsi=0x7000"), std::string::npos) << a.to_text();
    EXPECT_NE(a.to_json().find("\"op\": \"finalize\""), std::string::npos);
}

TEST(ParseSize, UnitsAndErrors) {
    EXPECT_EQ(parse_size("4096", "m"), 4096u);
    EXPECT_EQ(parse_size("256M", "m"), 256ull << 20);
    EXPECT_EQ(parse_size("2GiB", "m"), 2ull << 30);
    EXPECT_EQ(parse_size("1k", "m"), 1024u);
    EXPECT_THROW(parse_size("12Q", "--memory"), Error);
    EXPECT_THROW(parse_size("", "--memory"), Error);
    EXPECT_THROW(parse_size("99999999999T", "--memory"), Error);
}

} // namespace
