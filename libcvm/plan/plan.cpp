#include "cvm/plan.hpp"

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/core/overloaded.hpp"
#include <nlohmann/json.hpp>

namespace cvm {
namespace {

std::string size_text(std::uint64_t size) {
    if (size >= (1ull << 30) && size % (1ull << 30) == 0) return fmt::format("{} GiB", size >> 30);
    if (size >= (1ull << 20) && size % (1ull << 20) == 0) return fmt::format("{} MiB", size >> 20);
    if (size >= (1ull << 10) && size % (1ull << 10) == 0) return fmt::format("{} KiB", size >> 10);
    return fmt::format("{} B", size);
}

} // namespace

std::string_view operation_name(const Operation& operation) {
    return std::visit(overloaded{
        [](const op::CreateVm&) { return std::string_view("create-vm"); },
        [](const op::AddMemory&) { return std::string_view("add-memory"); },
        [](const op::LoadData&) { return std::string_view("load-data"); },
        [](const op::CreateVcpus&) { return std::string_view("create-vcpus"); },
        [](const op::SetRegisters&) { return std::string_view("set-registers"); },
        [](const op::AddDevice&) { return std::string_view("add-device"); },
        [](const op::Finalize&) { return std::string_view("finalize"); },
    }, operation);
}

std::string_view op::to_string(DeviceKind kind) {
    switch (kind) {
    case DeviceKind::gic_v3: return "gic-v3";
    case DeviceKind::gic_v3_its: return "gic-v3-its";
    case DeviceKind::uart_16550: return "uart-16550";
    case DeviceKind::uart_pl011: return "uart-pl011";
    case DeviceKind::rtc_pl031: return "rtc-pl031";
    case DeviceKind::rtc_mc146818: return "rtc-mc146818";
    case DeviceKind::pci_ecam_host: return "pci-ecam-host";
    case DeviceKind::virtio_mmio: return "virtio-mmio";
    case DeviceKind::fw_cfg_mmio: return "fw-cfg-mmio";
    case DeviceKind::x86_irqchip: return "x86-irqchip";
    case DeviceKind::x86_pit: return "x86-pit";
    case DeviceKind::i8042: return "i8042";
    case DeviceKind::acpi_pm1: return "acpi-pm1";
    case DeviceKind::fw_cfg_io: return "fw-cfg-io";
    case DeviceKind::pci_i440fx: return "pci-i440fx";
    case DeviceKind::acpi_pm_piix4: return "acpi-pm-piix4";
    case DeviceKind::riscv_imsic: return "riscv-imsic";
    }
    return "?";
}

std::vector<const op::AddDevice*> LaunchPlan::devices(DeviceKind kind) const {
    std::vector<const op::AddDevice*> found;
    for (const auto& operation : operations_)
        if (auto* d = std::get_if<op::AddDevice>(&operation); d && d->kind == kind) found.push_back(d);
    return found;
}

LaunchPlan::LaunchPlan(std::string technology, HashAlgorithm algorithm)
    : technology_(std::move(technology)), algorithm_(algorithm) {}

void LaunchPlan::check_layout() const {
    std::vector<const op::AddMemory*> memory;
    std::vector<const op::LoadData*> loads;
    for (const auto& operation : operations_) {
        if (auto* m = std::get_if<op::AddMemory>(&operation)) memory.push_back(m);
        if (auto* l = std::get_if<op::LoadData>(&operation)) loads.push_back(l);
    }
    for (std::size_t i = 0; i < loads.size(); ++i) {
        const auto& a = *loads[i];
        std::uint64_t size = a.data.size();
        bool inside = false;
        for (const auto* m : memory)
            inside = inside || (a.gpa >= m->gpa && size <= m->size && a.gpa - m->gpa <= m->size - size);
        if (!inside)
            throw Error(fmt::format("the plan loads {} at [{:#x}, +{:#x}), outside the guest memory it adds",
                                    a.label, a.gpa, size));
        for (std::size_t j = 0; j < i; ++j) {
            const auto& b = *loads[j];
            if (a.gpa < b.gpa + b.data.size() && b.gpa < a.gpa + size)
                throw Error(fmt::format("the plan loads {} at [{:#x}, +{:#x}) over {} at [{:#x}, +{:#x})", a.label,
                                        a.gpa, size, b.label, b.gpa, b.data.size()));
        }
    }
}

std::string LaunchPlan::to_text() const {
    std::string text = fmt::format("launch plan: technology {}, algorithm {}, {} operations\n",
                                   technology_, to_string(algorithm_), operations_.size());
    unsigned index = 0;
    for (const auto& operation : operations_) {
        std::string line = std::visit(overloaded{
            [](const op::CreateVm& o) {
                std::string settings;
                for (const auto& field : o.fields()) settings += fmt::format(" {}={}", field.name, field.value);
                return fmt::format("create-vm{}", settings);
            },
            [](const op::AddMemory& o) {
                return fmt::format("add-memory    gpa {:#012x} size {:>9} {}{}", o.gpa, size_text(o.size),
                                   o.label, o.confidential ? " (confidential)" : "");
            },
            [](const op::LoadData& o) {
                return fmt::format("load-data     gpa {:#012x} size {:>9} {} {}{} sha256 {}", o.gpa,
                                   size_text(o.data.size()), o.measured ? "measured  " : "unmeasured", o.label,
                                   o.page_type.empty() ? "" : " [" + o.page_type + "]",
                                   hash(HashAlgorithm::sha256, o.data).hex().substr(0, 16));
            },
            [](const op::CreateVcpus& o) { return fmt::format("create-vcpus  count {}", o.count); },
            [](const op::SetRegisters& o) {
                std::string regs;
                for (const auto& r : o.registers) regs += fmt::format(" {}={:#x}", r.name, r.value);
                return fmt::format("set-registers vcpu {}{}", o.vcpu, regs);
            },
            [](const op::AddDevice& o) {
                std::string where;
                for (const auto& r : o.regions)
                    where += fmt::format(" {} {:#x}+{:#x}", r.space == op::AddressSpace::pio ? "pio" : "mmio", r.base,
                                         r.size);
                std::string files;
                for (const auto& f : o.files)
                    files += fmt::format("\n       file {} {} sha256:{}", f.name, size_text(f.data.size()),
                                         hash(HashAlgorithm::sha256, f.data).hex());
                return fmt::format("add-device    {}{}{}{}", op::to_string(o.kind), where,
                                   o.interrupt ? fmt::format(" irq {}", *o.interrupt) : std::string(), files);
            },
            [](const op::Finalize&) { return std::string("finalize"); },
        }, operation);
        text += fmt::format("{:3}  {}\n", index++, line);
    }
    return text;
}

std::string LaunchPlan::to_json() const {
    nlohmann::ordered_json ops = nlohmann::ordered_json::array();
    for (const auto& operation : operations_) {
        nlohmann::ordered_json j;
        j["op"] = operation_name(operation);
        std::visit(overloaded{
            [&](const op::CreateVm& o) {
                nlohmann::ordered_json config = nlohmann::ordered_json::object();
                for (const auto& field : o.fields()) config[field.name] = field.value;
                j["config"] = config;
            },
            [&](const op::AddMemory& o) {
                j["gpa"] = o.gpa;
                j["size"] = o.size;
                j["confidential"] = o.confidential;
                j["label"] = o.label;
            },
            [&](const op::LoadData& o) {
                j["gpa"] = o.gpa;
                j["size"] = o.data.size();
                j["measured"] = o.measured;
                j["label"] = o.label;
                if (!o.page_type.empty()) j["page_type"] = o.page_type;
                j["source"] = o.data.name();
                j["sha256"] = hash(HashAlgorithm::sha256, o.data).hex();
            },
            [&](const op::CreateVcpus& o) { j["count"] = o.count; },
            [&](const op::SetRegisters& o) {
                j["vcpu"] = o.vcpu;
                nlohmann::ordered_json regs = nlohmann::ordered_json::object();
                for (const auto& r : o.registers) regs[r.name] = fmt::format("{:#x}", r.value);
                j["registers"] = regs;
            },
            [&](const op::AddDevice& o) {
                j["kind"] = op::to_string(o.kind);
                nlohmann::ordered_json regions = nlohmann::ordered_json::array();
                for (const auto& r : o.regions)
                    regions.push_back({{"space", r.space == op::AddressSpace::pio ? "pio" : "mmio"},
                                       {"base", r.base}, {"size", r.size}});
                j["regions"] = std::move(regions);
                if (o.interrupt) j["interrupt"] = *o.interrupt;
                if (!o.files.empty()) {
                    nlohmann::ordered_json files = nlohmann::ordered_json::array();
                    for (const auto& f : o.files)
                        files.push_back({{"name", f.name}, {"size", f.data.size()},
                                         {"sha256", hash(HashAlgorithm::sha256, f.data).hex()}});
                    j["files"] = std::move(files);
                }
            },
            [&](const op::Finalize&) {},
        }, operation);
        ops.push_back(std::move(j));
    }
    nlohmann::ordered_json root;
    root["technology"] = technology_;
    root["algorithm"] = to_string(algorithm_);
    root["operations"] = std::move(ops);
    return root.dump(2);
}

} // namespace cvm
