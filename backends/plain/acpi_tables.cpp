#include "backends/plain/acpi_tables.hpp"

#include <cstring>
#include <string_view>

#include "backends/plain/x86_layout.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"
#include "libcvm/plan/device_set.hpp"
#include "libcvm/x86/pc_machine.hpp"

namespace cvm::x86 {
namespace {

constexpr std::size_t kHeaderSize = 36;

class Writer {
public:
    std::size_t size() const { return bytes_.size(); }
    std::vector<std::uint8_t>& bytes() { return bytes_; }
    void align(std::size_t alignment) { bytes_.resize((bytes_.size() + alignment - 1) / alignment * alignment); }
    std::size_t reserve(std::size_t n) {
        auto at = bytes_.size();
        bytes_.resize(at + n);
        return at;
    }
    template <typename T> void put(std::size_t at, T value) { le::write<T>(bytes_, at, value); }
    void put_text(std::size_t at, std::string_view text) { std::memcpy(bytes_.data() + at, text.data(), text.size()); }
    void checksum(std::size_t at, std::size_t length, std::size_t field) {
        std::uint8_t sum = 0;
        bytes_[at + field] = 0;
        for (std::size_t i = 0; i < length; ++i) sum = static_cast<std::uint8_t>(sum + bytes_[at + i]);
        bytes_[at + field] = static_cast<std::uint8_t>(-sum);
    }

private:
    std::vector<std::uint8_t> bytes_;
};

// The common 36-byte description header; the checksum is filled in later.
std::size_t table(Writer& w, std::string_view signature, std::size_t length, std::uint8_t revision) {
    w.align(8);
    auto at = w.reserve(length);
    w.put_text(at, signature);
    w.put<std::uint32_t>(at + 4, static_cast<std::uint32_t>(length));
    w.bytes()[at + 8] = revision;
    w.put_text(at + 10, "LIBCVM");
    w.put_text(at + 16, "LIBCVMVM");
    w.put<std::uint32_t>(at + 24, 1);      // OEM revision
    w.put_text(at + 28, "LCVM");           // creator ID
    w.put<std::uint32_t>(at + 32, 1);      // creator revision
    return at;
}

// Local/IO APIC, processor and FADT flag bits used below (ACPI 6.x).
constexpr std::uint32_t kMadtPcatCompat = 1;
constexpr std::uint32_t kLapicEnabled = 1;
constexpr std::uint16_t kBootArch8042 = 1u << 1;
constexpr std::uint16_t kBootArchNoVga = 1u << 2;
constexpr std::uint16_t kBootArchNoCmosRtc = 1u << 5;
constexpr std::uint32_t kFadtWbinvd = 1u << 0;
constexpr std::uint32_t kFadtProcC1 = 1u << 2;
constexpr std::uint32_t kFadtPowerButton = 1u << 4;  // no fixed power button
constexpr std::uint32_t kFadtSleepButton = 1u << 5;  // no fixed sleep button

} // namespace

std::vector<std::uint8_t> build_acpi_tables(std::uint64_t base, unsigned vcpus,
                                            const std::vector<op::AddDevice>& devices) {
    if (vcpus == 0 || vcpus > 255) throw Error("the MADT describes 1 to 255 vCPUs");
    // The legacy devices (PIT, i8042, COM1) are where a PC has them, which
    // ACPI need not describe.
    const DeviceSet set(devices, {DeviceKind::x86_irqchip, DeviceKind::x86_pit, DeviceKind::i8042,
                                  DeviceKind::uart_16550, DeviceKind::acpi_pm1}, "the PC machine's ACPI tables");
    const op::AddDevice& pm1 = set.only(DeviceKind::acpi_pm1);
    const op::AddDevice& irqchip = set.only(DeviceKind::x86_irqchip);
    if (pm1.regions[0].size != 6 || !pm1.interrupt || irqchip.regions.size() < 2)
        throw Error("the FADT needs the PM1 event and control blocks (6 ports) with an SCI, and the MADT the "
                    "IOAPIC and local APIC addresses");
    const auto pm1_event = static_cast<std::uint32_t>(pm1.regions[0].base);
    const auto pm1_control = pm1_event + 4;
    const auto sci = static_cast<std::uint16_t>(*pm1.interrupt);
    const auto io_apic = static_cast<std::uint32_t>(irqchip.regions[0].base);
    const auto local_apic = static_cast<std::uint32_t>(irqchip.regions[1].base);
    Writer w;
    auto gpa = [&](std::size_t offset) { return static_cast<std::uint32_t>(base + offset); };

    // RSDP (ACPI 2.0+, 36 bytes). Filled in once the XSDT's address is known.
    auto rsdp = w.reserve(36);

    // FACS: non-reduced hardware has one; it must be 64-byte aligned.
    w.align(64);
    auto facs = w.reserve(64);
    w.put_text(facs, "FACS");
    w.put<std::uint32_t>(facs + 4, 64);
    w.bytes()[facs + 32] = 2;  // version

    // DSDT: only \_S5, so the guest knows the S5 SLP_TYP to write to PM1a_CNT.
    static constexpr std::uint8_t kS5Aml[] = {
        0x08, '_', 'S', '5', '_',      // NameOp "_S5_"
        0x12, 0x06, 0x02,              // PackageOp, PkgLength 6, 2 elements
        0x0a, kS5SleepType,            // BytePrefix SLP_TYPa
        0x0a, kS5SleepType,            // BytePrefix SLP_TYPb
    };
    auto dsdt = table(w, "DSDT", kHeaderSize + sizeof kS5Aml, 2);
    std::memcpy(w.bytes().data() + dsdt + kHeaderSize, kS5Aml, sizeof kS5Aml);
    w.checksum(dsdt, kHeaderSize + sizeof kS5Aml, 9);

    // FADT revision 6 (276 bytes): PM1a event/control blocks as I/O ports.
    constexpr std::size_t kFadtSize = 276;
    auto fadt = table(w, "FACP", kFadtSize, 6);
    w.put<std::uint32_t>(fadt + 36, gpa(facs));        // FIRMWARE_CTRL
    w.put<std::uint32_t>(fadt + 40, gpa(dsdt));        // DSDT
    w.put<std::uint16_t>(fadt + 46, sci);              // SCI_INT
    w.put<std::uint32_t>(fadt + 56, pm1_event);        // PM1a_EVT_BLK
    w.put<std::uint32_t>(fadt + 64, pm1_control);      // PM1a_CNT_BLK
    w.bytes()[fadt + 88] = 4;                          // PM1_EVT_LEN
    w.bytes()[fadt + 89] = 2;                          // PM1_CNT_LEN
    w.put<std::uint16_t>(fadt + 96, 101);              // P_LVL2_LAT: C2 unsupported
    w.put<std::uint16_t>(fadt + 98, 1001);             // P_LVL3_LAT: C3 unsupported
    w.put<std::uint16_t>(fadt + 109, kBootArch8042 | kBootArchNoVga | kBootArchNoCmosRtc);
    w.put<std::uint32_t>(fadt + 112, kFadtWbinvd | kFadtProcC1 | kFadtPowerButton | kFadtSleepButton);
    w.put<std::uint64_t>(fadt + 140, gpa(dsdt));       // X_DSDT, equal to DSDT
    w.checksum(fadt, kFadtSize, 9);

    // MADT: one enabled local APIC per vCPU, the IOAPIC.
    std::size_t madt_size = 44 + 8 * vcpus + 12;
    auto madt = table(w, "APIC", madt_size, 5);
    w.put<std::uint32_t>(madt + 36, local_apic);
    w.put<std::uint32_t>(madt + 40, kMadtPcatCompat);
    std::size_t at = madt + 44;
    for (unsigned i = 0; i < vcpus; ++i, at += 8) {
        w.bytes()[at] = 0;  // processor local APIC
        w.bytes()[at + 1] = 8;
        w.bytes()[at + 2] = static_cast<std::uint8_t>(i);  // ACPI processor UID
        w.bytes()[at + 3] = static_cast<std::uint8_t>(i);  // APIC ID (= KVM vCPU id)
        w.put<std::uint32_t>(at + 4, kLapicEnabled);
    }
    w.bytes()[at] = 1;  // I/O APIC
    w.bytes()[at + 1] = 12;
    w.bytes()[at + 2] = 0;  // I/O APIC ID, as KVM's in-kernel IOAPIC resets to
    w.put<std::uint32_t>(at + 4, io_apic);
    w.put<std::uint32_t>(at + 8, 0);  // GSI base
    w.checksum(madt, madt_size, 9);

    // XSDT: FADT and MADT.
    auto xsdt = table(w, "XSDT", kHeaderSize + 16, 1);
    w.put<std::uint64_t>(xsdt + kHeaderSize, gpa(fadt));
    w.put<std::uint64_t>(xsdt + kHeaderSize + 8, gpa(madt));
    w.checksum(xsdt, kHeaderSize + 16, 9);

    w.put_text(rsdp, "RSD PTR ");
    w.put_text(rsdp + 9, "LIBCVM");
    w.bytes()[rsdp + 15] = 2;  // revision: ACPI 2.0+
    w.put<std::uint32_t>(rsdp + 20, 36);
    w.put<std::uint64_t>(rsdp + 24, gpa(xsdt));
    w.checksum(rsdp, 20, 8);   // first 20 bytes
    w.checksum(rsdp, 36, 32);  // the whole structure
    if (w.size() > kAcpiMax) throw Error("ACPI tables do not fit their area");
    w.align(16);
    return std::move(w.bytes());
}

} // namespace cvm::x86
