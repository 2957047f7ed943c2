// LaunchPlan: the ordered list of neutral operations a launch performs.
//
// The plan is the single source of truth read by every consumer: the launcher
// turns it into KVM ioctls, the predictor into the expected measurement, the
// event log into records. Because they read the same plan, a prediction can only
// disagree with the hardware if the measurement model is wrong.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"

namespace cvm {

// One setting of a VM configuration in its text form.
struct ConfigField {
    std::string name;
    std::string value;
    bool operator==(const ConfigField&) const = default;
};

// A technology's VM configuration: the typed settings one backend owns (an
// SEV policy, a realm's parameters and RPV, a TVM's TSM ABI, ...). Launchers
// and predictors read the typed value; everything that shows or records a
// plan reads its one text form, `fields()`: the plan's text and JSON, the
// software measurement and its operation log. The backend that owns the
// type rebuilds it from those fields (Backend::decode_config), refusing any
// field list it would not itself have written.
class VmConfig {
public:
    virtual ~VmConfig() = default;
    // The settings as named text fields, in the backend's fixed order.
    virtual std::vector<ConfigField> fields() const = 0;
};

namespace op {

// Create and configure the VM with the backend's typed configuration.
struct CreateVm {
    std::shared_ptr<const VmConfig> config;
    // config->fields(), or none without a configuration.
    std::vector<ConfigField> fields() const { return config ? config->fields() : std::vector<ConfigField>{}; }
};

// Back [gpa, gpa+size) with guest RAM. `confidential` marks private memory
// (RIPAS RAM on CCA, encrypted on SEV); ordinary KVM ignores it.
struct AddMemory {
    std::uint64_t gpa = 0;
    std::uint64_t size = 0;
    bool confidential = false;
    std::string label;
};

// Copy `data` to `gpa`. `measured` says whether its contents enter the
// launch measurement. `page_type` is a technology's page kind where the
// hardware distinguishes them (SEV-SNP "zero", "secrets", "cpuid", "vmsa";
// empty for ordinary data); it is part of what is measured.
struct LoadData {
    std::uint64_t gpa = 0;
    Payload data;
    bool measured = true;
    std::string label;
    std::string page_type;
};

// Create `count` vCPUs with ids 0..count-1; vCPU 0 boots.
struct CreateVcpus {
    unsigned count = 1;
};

struct Register {
    std::string name;
    std::uint64_t value = 0;
};

// Initial register state of one vCPU, in the architecture's register names.
struct SetRegisters {
    unsigned vcpu = 0;
    std::vector<Register> registers;
};

// A device of the machine, where the layout rules put it. The DTB (or ACPI)
// generators describe these records and launchers create exactly them,
// refusing a kind they cannot provide; neither invents a device of its own.
// Devices do not enter a measurement themselves: the tables that describe
// them to the guest are loaded data, and measured as such.
enum class DeviceKind {
    gic_v3,         // regions: the distributor, then each redistributor region
    gic_v3_its,     // regions: the ITS frames
    uart_16550,     // regions: the 8 registers
    uart_pl011,     // regions: the 4 KiB register frame
    rtc_pl031,      // regions: the 4 KiB register frame
    rtc_mc146818,   // regions: the index and data registers
    pci_ecam_host,  // regions: ECAM, then the I/O and memory windows; an empty bus
    virtio_mmio,    // regions: one transport; no device behind it
    fw_cfg_mmio,    // regions: data, selector and DMA registers
    x86_irqchip,    // KVM's in-kernel PICs, IOAPIC and local APICs; regions: IOAPIC, local APIC (MMIO)
    x86_pit,        // KVM's in-kernel i8254; regions: its ports
    i8042,          // the keyboard controller's reset line; regions: ports 0x60-0x64
    acpi_pm1,       // ACPI PM1a event and control blocks (S5 = power-off); interrupt: the SCI
    fw_cfg_io,      // QEMU's fw_cfg on x86 ports with DMA; regions: selector, data, DMA; files: its items
    pci_i440fx,     // an i440FX's PCI configuration ports: host bridge, PIIX3 ISA bridge, PIIX4 PM function
    acpi_pm_piix4,  // the PIIX4 PM I/O block: PM1a event and control (S5 = type 0), PM timer; interrupt: the SCI
    riscv_imsic,    // KVM's AIA IMSICs; regions: the guest interrupt files, one 4 KiB file per hart
};
std::string_view to_string(DeviceKind kind);

enum class AddressSpace { mmio, pio };

struct DeviceRegion {
    AddressSpace space = AddressSpace::mmio;
    std::uint64_t base = 0;
    std::uint64_t size = 0;
};

// Bytes a device hands the guest on request (fw_cfg's items), named as
// the device names them.
struct DeviceFile {
    std::string name;
    Payload data;
};

struct AddDevice {
    DeviceKind kind = DeviceKind::uart_16550;
    std::vector<DeviceRegion> regions;
    // The device's interrupt as the machine's interrupt controller numbers
    // it (arm64: the SPI number; a PCI host: that of slot 0's INTA, slot s
    // using interrupt + s). Absent: the device raises none.
    std::optional<std::uint32_t> interrupt;
    // What the device serves the guest (fw_cfg: the kernel, initrd and
    // command line a firmware boots, the e820 map). Unlike a device's
    // place, these bytes decide what runs: the software measurement hashes
    // them, one event per file.
    std::vector<DeviceFile> files = {};
};

// Seal the initial state and start running.
struct Finalize {};

} // namespace op

using Operation = std::variant<op::CreateVm, op::AddMemory, op::LoadData, op::CreateVcpus,
                               op::SetRegisters, op::AddDevice, op::Finalize>;

using op::DeviceKind;

// Short kebab-case name of an operation ("load-data", ...).
std::string_view operation_name(const Operation& operation);

class LaunchPlan {
public:
    LaunchPlan(std::string technology, HashAlgorithm algorithm);

    const std::string& technology() const noexcept { return technology_; }
    HashAlgorithm algorithm() const noexcept { return algorithm_; }
    const std::vector<Operation>& operations() const noexcept { return operations_; }

    void add(Operation operation) { operations_.push_back(std::move(operation)); }

    // The plan's devices of `kind`, in plan order.
    std::vector<const op::AddDevice*> devices(DeviceKind kind) const;

    // Throws if a load lies outside the memory the plan adds, or two loads
    // overlap: a plan must never silently overwrite its own bytes.
    void check_layout() const;

    // One line per operation, for people.
    std::string to_text() const;
    // {"technology":..., "algorithm":..., "operations":[...]}; loaded data is
    // described by GPA, size and SHA-256 of its bytes, never the bytes.
    std::string to_json() const;

private:
    std::string technology_;
    HashAlgorithm algorithm_;
    std::vector<Operation> operations_;
};

} // namespace cvm
