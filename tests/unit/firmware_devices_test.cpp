// The devices a firmware (OVMF) reads on libcvm's PC, driven as the guest
// drives them. Expected behaviour from QEMU's docs/specs/fw_cfg.rst and
// hw/nvram/fw_cfg.c (item layout, DMA descriptor and completion), edk2
// OvmfPkg (QemuFwCfgLib's port and DMA use, PlatformInitLib's PIIX4 set-up,
// AcpiTimerLib's PM timer) and the PIIX4 datasheet's PMBA/PMREGMISC.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "cvm/error.hpp"
#include "libcvm/devices/fw_cfg.hpp"
#include "libcvm/devices/i440fx_pci.hpp"
#include "libcvm/devices/piix4_pm.hpp"

using namespace cvm;

namespace {

// 64 KiB of guest RAM at GPA 0x10000.
struct Ram {
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(0x10000, 0xee);
    static constexpr std::uint64_t kBase = 0x10000;
    GuestRamView view() {
        return [this](std::uint64_t gpa, std::uint64_t size) -> std::span<std::uint8_t> {
            if (gpa < kBase || size > bytes.size() || gpa - kBase > bytes.size() - size)
                throw Error("outside RAM");
            return {bytes.data() + (gpa - kBase), size};
        };
    }
    std::uint8_t* at(std::uint64_t gpa) { return bytes.data() + (gpa - kBase); }
};

void put_be(std::uint8_t* p, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
}
std::uint64_t get_be(const std::uint8_t* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
}

// OVMF's InternalQemuFwCfgDmaBytes: the descriptor, then the two 32-bit
// port writes of its address, each byte-swapped (the port sees big-endian).
std::uint32_t dma(FwCfgIo& io, Ram& ram, std::uint64_t descriptor, std::uint32_t control, std::uint32_t length,
                  std::uint64_t address) {
    put_be(ram.at(descriptor), control, 4);
    put_be(ram.at(descriptor) + 4, length, 4);
    put_be(ram.at(descriptor) + 8, address, 8);
    std::uint8_t high[4], low[4];
    put_be(high, descriptor >> 32, 4);
    put_be(low, descriptor & 0xffffffff, 4);
    io.write(4, high);
    io.write(8, low);
    return static_cast<std::uint32_t>(get_be(ram.at(descriptor), 4));
}

void select(FwCfgIo& io, std::uint16_t selector) {
    const std::uint8_t le[2] = {static_cast<std::uint8_t>(selector), static_cast<std::uint8_t>(selector >> 8)};
    io.write(0, le);
}

std::vector<std::uint8_t> port_read(FwCfgIo& io, std::size_t n) {
    std::vector<std::uint8_t> out(n);
    for (auto& b : out) io.read(1, std::span<std::uint8_t>(&b, 1));  // rep insb: one byte per access
    return out;
}

Payload bytes(std::vector<std::uint8_t> v) { return Payload::from_bytes(std::move(v), "item"); }

} // namespace

TEST(FwCfg, SignatureFeaturesAndDmaSignature) {
    FwCfg cfg(/*dma=*/true);
    Ram ram;
    FwCfgIo io(cfg, ram.view());
    select(io, FwCfg::kSignature);
    EXPECT_EQ(port_read(io, 4), (std::vector<std::uint8_t>{'Q', 'E', 'M', 'U'}));
    select(io, FwCfg::kId);
    EXPECT_EQ(port_read(io, 4), (std::vector<std::uint8_t>{3, 0, 0, 0}));  // traditional + DMA, little-endian
    std::uint8_t sig[8];
    io.read(4, std::span<std::uint8_t>(sig, 4));
    io.read(8, std::span<std::uint8_t>(sig + 4, 4));
    EXPECT_EQ(std::string(reinterpret_cast<char*>(sig), 8), "QEMU CFG");
    FwCfg plain_cfg;
    FwCfgIo plain_io(plain_cfg, ram.view());
    select(plain_io, FwCfg::kId);
    EXPECT_EQ(port_read(plain_io, 4), (std::vector<std::uint8_t>{1, 0, 0, 0}));
}

TEST(FwCfg, BootItemsAndFilesAsQemuLaysThemOut) {
    FwCfg cfg(true);
    cfg.add_named("kernel", bytes({1, 2, 3, 4, 5}));
    cfg.add_named("cmdline", bytes({'a', 0}));
    cfg.add_named("nb-cpus", bytes({2, 0}));
    cfg.add_named("etc/e820", bytes(std::vector<std::uint8_t>(20, 7)));
    EXPECT_THROW(cfg.add_named("bogus", bytes({1})), Error);
    EXPECT_THROW(cfg.add_named("etc/e820", bytes({1})), Error);  // a file name once
    Ram ram;
    FwCfgIo io(cfg, ram.view());
    select(io, FwCfg::kKernelSize);
    EXPECT_EQ(port_read(io, 4), (std::vector<std::uint8_t>{5, 0, 0, 0}));
    select(io, FwCfg::kKernelData);
    EXPECT_EQ(port_read(io, 7), (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 0, 0}));  // zeros past the end
    select(io, FwCfg::kCmdlineSize);
    EXPECT_EQ(port_read(io, 4), (std::vector<std::uint8_t>{2, 0, 0, 0}));
    select(io, FwCfg::kNbCpus);
    EXPECT_EQ(port_read(io, 2), (std::vector<std::uint8_t>{2, 0}));
    // The directory: a big-endian count, then {be32 size, be16 select, u16, name[56]}.
    select(io, FwCfg::kFileDir);
    auto dir = port_read(io, 4 + 64);
    EXPECT_EQ(get_be(dir.data(), 4), 1u);
    EXPECT_EQ(get_be(dir.data() + 4, 4), 20u);
    EXPECT_EQ(get_be(dir.data() + 8, 2), FwCfg::kFirstFile);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(dir.data() + 12)), "etc/e820");
    select(io, 0x1234);  // an unknown item reads as zeros
    EXPECT_EQ(port_read(io, 2), (std::vector<std::uint8_t>{0, 0}));
}

TEST(FwCfg, DmaReadSkipSelectAndCompletion) {
    FwCfg cfg(true);
    cfg.add_named("kernel", bytes({10, 11, 12, 13, 14, 15}));
    Ram ram;
    FwCfgIo io(cfg, ram.view());
    const std::uint64_t desc = 0x10000, buffer = 0x11000;
    select(io, FwCfg::kKernelData);
    // Control 0 when done: OVMF spins until it is.
    EXPECT_EQ(dma(io, ram, desc, FwCfg::kDmaSkip, 2, 0), 0u);
    EXPECT_EQ(dma(io, ram, desc, FwCfg::kDmaRead, 3, buffer), 0u);
    EXPECT_EQ(std::vector<std::uint8_t>(ram.at(buffer), ram.at(buffer) + 3), (std::vector<std::uint8_t>{12, 13, 14}));
    // The port shares the item offset with DMA.
    EXPECT_EQ(port_read(io, 1), (std::vector<std::uint8_t>{15}));
    // Past the end, zeros: a read of 4 from a fresh select of the size item.
    std::memset(ram.at(buffer), 0xee, 8);
    EXPECT_EQ(dma(io, ram, desc, FwCfg::kDmaSelect | FwCfg::kDmaRead | (FwCfg::kKernelSize << 16), 8, buffer), 0u);
    EXPECT_EQ(std::vector<std::uint8_t>(ram.at(buffer), ram.at(buffer) + 8),
              (std::vector<std::uint8_t>{6, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(FwCfg, BadGuestRequestsAreErrorsNotCrashes) {
    FwCfg cfg(true);
    cfg.add_named("kernel", bytes({1, 2, 3}));
    Ram ram;
    FwCfgIo io(cfg, ram.view());
    const std::uint64_t desc = 0x10000;
    select(io, FwCfg::kKernelData);
    // Every item is read-only: a DMA write is refused with the error bit.
    EXPECT_EQ(dma(io, ram, desc, FwCfg::kDmaWrite, 3, 0x11000), FwCfg::kDmaError);
    // A target outside RAM.
    EXPECT_EQ(dma(io, ram, desc, FwCfg::kDmaRead, 3, 0x90000), FwCfg::kDmaError);
    EXPECT_EQ(dma(io, ram, desc, FwCfg::kDmaRead, 0xffffffff, 0x11000), FwCfg::kDmaError);
    // A descriptor outside RAM: nothing to report to, nothing happens.
    std::uint8_t high[4] = {0, 0, 0, 1}, low[4] = {0, 0, 0, 0};
    io.write(4, high);
    EXPECT_NO_THROW(io.write(8, low));
    // Accesses of odd widths are ignored.
    const std::uint8_t one[1] = {1};
    EXPECT_NO_THROW(io.write(4, one));
    EXPECT_NO_THROW(io.write(0, one));
}

namespace {

std::uint32_t config_read(I440fxPciConfig& pci, unsigned dev, unsigned fn, unsigned reg, std::size_t size) {
    const std::uint32_t address = 1u << 31 | dev << 11 | fn << 8 | (reg & 0xfc);
    std::uint8_t a[4];
    for (int i = 0; i < 4; ++i) a[i] = static_cast<std::uint8_t>(address >> (8 * i));
    pci.write(0, a);
    std::uint8_t d[4] = {};
    pci.read(4 + (reg & 3), std::span<std::uint8_t>(d, size));
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < size; ++i) v |= std::uint32_t{d[i]} << (8 * i);
    return v;
}

void config_write(I440fxPciConfig& pci, unsigned dev, unsigned fn, unsigned reg, std::uint32_t value, std::size_t size) {
    const std::uint32_t address = 1u << 31 | dev << 11 | fn << 8 | (reg & 0xfc);
    std::uint8_t a[4];
    for (int i = 0; i < 4; ++i) a[i] = static_cast<std::uint8_t>(address >> (8 * i));
    pci.write(0, a);
    std::uint8_t d[4];
    for (int i = 0; i < 4; ++i) d[i] = static_cast<std::uint8_t>(value >> (8 * i));
    pci.write(4 + (reg & 3), std::span<const std::uint8_t>(d, size));
}

} // namespace

TEST(I440fx, TheFunctionsOvmfLooksFor) {
    I440fxPciConfig pci;
    // PlatformInitLib reads only the device ID at 0:0.0 (a 16-bit read at 0xcfe).
    EXPECT_EQ(config_read(pci, 0, 0, 0x02, 2), 0x1237u);
    EXPECT_EQ(config_read(pci, 0, 0, 0x00, 4), 0x12378086u);
    EXPECT_EQ(config_read(pci, 1, 0, 0x00, 4), 0x70008086u);
    EXPECT_EQ(config_read(pci, 1, 0, 0x08, 4) >> 8, 0x060100u);  // an ISA bridge, which SioBusDxe binds
    EXPECT_EQ(config_read(pci, 1, 0, 0x0e, 1) & 0x80, 0x80u);     // multi-function
    EXPECT_EQ(config_read(pci, 1, 3, 0x00, 4), 0x71138086u);
    // Absent functions and other buses read all ones.
    EXPECT_EQ(config_read(pci, 2, 0, 0x00, 4), 0xffffffffu);
    EXPECT_EQ(config_read(pci, 1, 1, 0x00, 2), 0xffffu);
}

TEST(I440fx, Piix4PmSetUpAsOvmfProgramsIt) {
    I440fxPciConfig pci;
    // PlatformInitLib: PMBA read-modify-write to 0xb000, PCICMD I/O, PMREGMISC.
    EXPECT_EQ(config_read(pci, 1, 3, 0x40, 4), 1u);  // bit 0 reads as one
    const std::uint32_t pmba = config_read(pci, 1, 3, 0x40, 4);
    config_write(pci, 1, 3, 0x40, (pmba & ~0xffc0u) | 0xb000, 4);
    config_write(pci, 1, 3, 0x04, config_read(pci, 1, 3, 0x04, 1) | 1, 1);
    config_write(pci, 1, 3, 0x80, config_read(pci, 1, 3, 0x80, 1) | 1, 1);
    EXPECT_EQ(config_read(pci, 1, 3, 0x40, 4), 0xb001u);  // what DxeAcpiTimerLib reads back, & ~1 + 8
    EXPECT_EQ(config_read(pci, 1, 3, 0x80, 1), 1u);
    EXPECT_EQ(config_read(pci, 1, 3, 0x04, 1) & 1, 1u);
    // Read-only bits stay: the IDs, and PMBA's low bits.
    config_write(pci, 0, 0, 0x00, 0, 4);
    EXPECT_EQ(config_read(pci, 0, 0, 0x02, 2), 0x1237u);
    config_write(pci, 1, 3, 0x40, 0xffffffff, 4);
    EXPECT_EQ(config_read(pci, 1, 3, 0x40, 4), 0xffc1u);
    // BdsPlatform routes PIRQA-D through the ISA bridge.
    config_write(pci, 1, 0, 0x60, 0x0b0b0a0a, 4);
    EXPECT_EQ(config_read(pci, 1, 0, 0x60, 4), 0x0b0b0a0au);
}

TEST(Piix4Pm, TimerTicksAt3579545HzIn24Bits) {
    std::vector<std::string> stops;
    Piix4Pm pm([&](ExitReason, std::string detail) { stops.push_back(detail); });
    auto timer = [&pm] {
        std::uint8_t b[4] = {};
        pm.read(8, b);
        return std::uint32_t{b[0]} | b[1] << 8 | b[2] << 16 | std::uint32_t{b[3]} << 24;
    };
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint32_t a = timer();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::uint32_t b = timer();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(a >> 24, 0u);
    EXPECT_EQ(b >> 24, 0u);
    const double ticks = static_cast<double>((b - a) & 0xffffff);
    EXPECT_GE(ticks, 0.019 * 3579545);            // at least the 20 ms slept
    EXPECT_LE(ticks, (seconds + 0.001) * 3579545);  // at most the time that passed
}

TEST(Piix4Pm, SleepTypeZeroIsPowerOff) {
    std::vector<ExitReason> stops;
    Piix4Pm pm([&](ExitReason reason, std::string) { stops.push_back(reason); });
    // BdsPlatform sets SCI_EN; DxeResetShutdown clears SLP_TYP, then sets SLP_EN.
    std::uint8_t control[2] = {1, 0};
    pm.write(4, control);
    EXPECT_TRUE(stops.empty());
    control[1] = 0x20;  // bit 13
    pm.write(4, control);
    ASSERT_EQ(stops.size(), 1u);
    EXPECT_EQ(stops[0], ExitReason::power_off);
    // Another sleep type (S3, say) is no power-off: the run stops, unsupported.
    control[1] = 0x20 | (1 << 2);
    pm.write(4, control);
    ASSERT_EQ(stops.size(), 2u);
    EXPECT_EQ(stops[1], ExitReason::emulation_failure);
}
