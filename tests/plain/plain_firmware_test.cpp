// The plain x86 backend booting a firmware (OVMF): the plan (the PC the
// firmware reads, fw_cfg's files, what the measurement covers) and, at the
// ioctl seam, a guest driving the firmware's devices as OVMF does
// (QemuFwCfgLib's signature check, PlatformInitLib's host bridge read, the
// shutdown write of DxeResetShutdown).
#include <gtest/gtest.h>

#include <cstring>
#include <linux/kvm.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "fake_kvm.hpp"
#include "seam_launch.hpp"
#include "synthetic_images.hpp"

using namespace cvm;
using cvmtest::FakeKvm;

namespace {

constexpr std::size_t kFirmwareSize = 64 * 1024;

VmSpec firmware_spec(std::vector<std::uint8_t> initrd = {1, 2, 3}) {
    VmSpec spec;
    spec.memory.size = 128ull << 20;
    spec.vcpus.count = 2;
    spec.cmdline = "console=ttyS0";
    spec.images.push_back({ImageRole::firmware, Payload::from_bytes(std::vector<std::uint8_t>(kFirmwareSize, 0xf4), "OVMF.fd"), true, {}});
    spec.images.push_back({ImageRole::kernel, Payload::from_bytes(cvmtest::synthetic_bzimage(), "bzImage"), true, {}});
    spec.images.push_back({ImageRole::initrd, Payload::from_bytes(std::move(initrd), "initrd"), true, {}});
    return spec;
}

const op::AddDevice* device(const LaunchPlan& plan, DeviceKind kind) {
    for (const auto& operation : plan.operations())
        if (const auto* d = std::get_if<op::AddDevice>(&operation); d && d->kind == kind) return d;
    return nullptr;
}

ByteSpan file(const op::AddDevice& fw_cfg, const std::string& name) {
    for (const auto& f : fw_cfg.files)
        if (f.name == name) return f.data.bytes();
    ADD_FAILURE() << "no fw_cfg file " << name;
    return {};
}

} // namespace

TEST(PlainFirmwarePlan, ThePcOvmfReadsWithTheKernelInFwCfg) {
    auto plan = find_backend("plain").build_plan(firmware_spec());
    for (DeviceKind kind : {DeviceKind::x86_irqchip, DeviceKind::x86_pit, DeviceKind::uart_16550,
                            DeviceKind::rtc_mc146818, DeviceKind::pci_i440fx, DeviceKind::acpi_pm_piix4,
                            DeviceKind::fw_cfg_io})
        EXPECT_NE(device(plan, kind), nullptr) << op::to_string(kind);
    EXPECT_EQ(device(plan, DeviceKind::acpi_pm1), nullptr);  // the PIIX4 block replaces it
    const op::AddDevice& fw_cfg = *device(plan, DeviceKind::fw_cfg_io);
    EXPECT_EQ(fw_cfg.regions.at(0).base, 0x510u);
    // QEMU's split of a bzImage: the boot sector and setup sectors, then the rest.
    const auto kernel = cvmtest::synthetic_bzimage();
    const std::size_t setup = (kernel[0x1f1] + 1) * 512u;
    EXPECT_EQ(file(fw_cfg, "setup").size(), setup);
    EXPECT_EQ(file(fw_cfg, "kernel").size(), kernel.size() - setup);
    EXPECT_EQ(std::memcmp(file(fw_cfg, "kernel").data(), kernel.data() + setup, kernel.size() - setup), 0);
    auto cmdline = file(fw_cfg, "cmdline");
    EXPECT_EQ(std::string(cmdline.begin(), cmdline.end()), std::string("console=ttyS0") + '\0');
    EXPECT_EQ(file(fw_cfg, "initrd").size(), 3u);
    EXPECT_EQ(std::vector<std::uint8_t>(file(fw_cfg, "nb-cpus").begin(), file(fw_cfg, "nb-cpus").end()),
              (std::vector<std::uint8_t>{2, 0}));
    // etc/e820: one 20-byte RAM entry {0, 128 MiB, type 1}.
    auto e820 = file(fw_cfg, "etc/e820");
    ASSERT_EQ(e820.size(), 20u);
    std::uint64_t base = 0, length = 0;
    std::uint32_t type = 0;
    std::memcpy(&base, e820.data(), 8);
    std::memcpy(&length, e820.data() + 8, 8);
    std::memcpy(&type, e820.data() + 16, 4);
    EXPECT_EQ(base, 0u);
    EXPECT_EQ(length, 128ull << 20);
    EXPECT_EQ(type, 1u);
    // The firmware ends at 4 GiB; the vCPUs start from KVM's reset state.
    bool firmware_loaded = false;
    for (const auto& operation : plan.operations()) {
        EXPECT_FALSE(std::holds_alternative<op::SetRegisters>(operation));
        if (const auto* load = std::get_if<op::LoadData>(&operation))
            firmware_loaded |= load->label == "firmware" && load->gpa == (1ull << 32) - kFirmwareSize;
    }
    EXPECT_TRUE(firmware_loaded);
}

TEST(PlainFirmwarePlan, TheMeasurementCoversWhatFwCfgServes) {
    const auto& plain = find_backend("plain");
    auto a = plain.predict(plain.build_plan(firmware_spec({1, 2, 3})));
    auto b = plain.predict(plain.build_plan(firmware_spec({1, 2, 4})));
    EXPECT_NE(a.value.hex(), b.value.hex());
    std::size_t files = 0;
    for (const auto& e : plain.events(plain.build_plan(firmware_spec()))) files += e.kind == "device-file";
    EXPECT_EQ(files, 6u);  // nb-cpus, etc/e820, setup, kernel, cmdline, initrd
}

TEST(PlainFirmwarePlan, RefusesWhatOvmfCannotUse) {
    const auto& plain = find_backend("plain");
    auto small = firmware_spec();
    small.memory.size = 16ull << 20;  // below OVMF's working RAM
    EXPECT_THROW(plain.build_plan(small), Error);
    auto odd = firmware_spec();
    odd.images[0].payload = Payload::from_bytes(std::vector<std::uint8_t>(1000, 0), "odd.fd");
    EXPECT_THROW(plain.build_plan(odd), Error);
    auto dtb = firmware_spec();
    dtb.images.push_back({ImageRole::dtb, Payload::from_bytes({0xd0, 0x0d, 0xfe, 0xed}, "x.dtb"), true, {}});
    EXPECT_THROW(plain.build_plan(dtb), Error);
    auto no_kernel = firmware_spec();
    no_kernel.images.erase(no_kernel.images.begin() + 1);
    EXPECT_THROW(plain.build_plan(no_kernel), Error);  // an initrd and command line without a kernel
}

namespace {

FakeKvm::Exit port_in(std::uint16_t port, std::uint8_t size, std::uint32_t count) {
    return [=](kvm_run& run) {
        run.exit_reason = KVM_EXIT_IO;
        run.io.direction = KVM_EXIT_IO_IN;
        run.io.size = size;
        run.io.port = port;
        run.io.count = count;
        run.io.data_offset = 4096;
    };
}

// The data the launcher left for the previous IN, then `next`.
FakeKvm::Exit after_in(std::vector<std::uint8_t>& seen, std::size_t size, FakeKvm::Exit next) {
    return [&seen, size, next](kvm_run& run) {
        const auto* data = reinterpret_cast<const std::uint8_t*>(&run) + 4096;
        seen.assign(data, data + size);
        next(run);
    };
}

} // namespace

TEST(PlainFirmwareLaunchSeam, TheGuestFindsFwCfgThePciHostAndPowersOff) {
    std::vector<std::uint8_t> signature, host_bridge;
    FakeKvm fake;
    fake.script({
        FakeKvm::port_write(0x510, 0x0000, 2),          // select the signature
        port_in(0x511, 1, 4),                           // rep insb, 4 bytes
        after_in(signature, 4, FakeKvm::port_write(0xcf8, 0x80000000, 4)),
        port_in(0xcfc, 4, 1),                           // 0:0.0 vendor and device
        after_in(host_bridge, 4, FakeKvm::port_write(0xb004, 1u << 13, 2)),  // SLP_TYP 0 | SLP_EN
    });
    auto result = cvmtest::launch_through(fake, find_backend("plain").build_plan(firmware_spec()), -1, 5000);
    EXPECT_EQ(result.reason, ExitReason::power_off) << result.detail;
    EXPECT_EQ(std::string(signature.begin(), signature.end()), "QEMU");
    EXPECT_EQ(host_bridge, (std::vector<std::uint8_t>{0x86, 0x80, 0x37, 0x12}));
}
