#include "spec_options.hpp"

#include <set>

#include <fmt/format.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"
#include "exit_codes.hpp"
#include "lazy_options.hpp"

namespace cvmlaunch {

void SpecOptions::add_to(CLI::App& app) {
    add_options_when_chosen(app, [this](CLI::App& chosen) { populate(chosen); });
}

void SpecOptions::populate(CLI::App& app) {
    std::string techs;
    for (const cvm::Backend* b : cvm::all_backends())
        techs += fmt::format("\n    {:<12} {}", b->name(), b->summary());
    auto* tech = app.add_option("--tech", technology, "Technology (default plain):" + techs);
    app.add_option("--mode", mode,
                   "sev-snp-measure's name for the technology: sev, seves or snp (amd-sev, amd-sev-es, "
                   "amd-sev-snp), or snp:ovmf-hash (measure: the SNP launch digest of the firmware pages alone)")
        ->check(CLI::IsMember({"sev", "seves", "snp", "snp:ovmf-hash"}))
        ->excludes(tech);
    app.add_option("--kernel", kernel, "Kernel image file (plain: an x86_64 bzImage, an arm64 Image or a RISC-V Image)");
    app.add_option("--initrd", initrd, "Initial ramdisk file");
    app.add_option("--firmware,--ovmf", firmware, "Firmware image file, for technologies that boot firmware "
                                                  "(--ovmf: sev-snp-measure's name)");
    app.add_option("--dtb", dtb, "Device tree blob to use as is, for technologies with a DTB (the guest's command "
                                 "line and CPUs are then the DTB's own)");
    app.add_option("--cmdline,--append", cmdline, "Kernel command line (--append: sev-snp-measure's name)");
    app.add_option("--memory", memory, "Guest memory, e.g. 256M or 2G (default 256M)");
    app.add_option("--vcpus", vcpus, "Number of vCPUs (default 1)")->check(CLI::Range(1u, 255u));
    app.add_option("--opt", raw_options, "Technology option KEY=VALUE (repeatable)");
    app.add_flag("--json", json, "Print one JSON object instead of text");

    // Every backend option becomes a flag; the same name in several backends
    // is one flag with a merged help text.
    std::map<std::string, std::string> help;
    std::map<std::string, bool> number;  // every backend with the option reads it as a number
    for (const cvm::Backend* b : cvm::all_backends())
        for (const auto& o : b->options()) {
            const bool is_number = o.kind == cvm::OptionKind::number;
            number[o.name] = number.count(o.name) ? number[o.name] && is_number : is_number;
            std::string text = fmt::format("[{}] {}", b->name(), o.help);
            if (!o.choices.empty()) text += fmt::format(" ({})", fmt::join(o.choices, "|"));
            if (!o.default_value.empty()) text += fmt::format(", default {}", o.default_value);
            help[o.name] += help[o.name].empty() ? text : "\n" + text;
        }
    CLI::Option* vmm = nullptr;
    for (const auto& [option_name, text] : help) {
        const std::string name = option_name;  // a lambda cannot capture a structured binding (clang 14)
        auto* target = &backend_options[name];
        auto* option = app.add_option("--" + name, *target, text);
        if (name == "vmm") vmm = option;
        // A malformed number is a usage error, caught before any file is read.
        if (number[name])
            option->check(CLI::Validator(
                [name](std::string& value) -> std::string {
                    try {
                        cvm::parse_unsigned(value, "--" + name);
                        return {};
                    } catch (const cvm::Error&) {
                        return fmt::format("'{}' is not a number (decimal, or hex with 0x)", value);
                    }
                },
                "NUMBER"));
    }
    if (vmm)
        app.add_option("--vmm-type", vmm_type, "sev-snp-measure's name for --vmm: QEMU, ec2 or gce")
            ->check(CLI::IsMember({"QEMU", "ec2", "gce"}))
            ->excludes(vmm);
}

cvm::VmSpec SpecOptions::to_spec(Use use) const {
    cvm::VmSpec spec;
    spec.technology = technology.empty() ? "plain" : technology;
    if (mode == "sev") spec.technology = "amd-sev";
    if (mode == "seves") spec.technology = "amd-sev-es";
    if (mode == "snp" || mode == "snp:ovmf-hash") spec.technology = "amd-sev-snp";
    spec.memory.size = cvm::parse_size(memory, "--memory");
    spec.vcpus.count = vcpus;
    spec.cmdline = cmdline;
    auto add = [&](cvm::ImageRole role, const std::string& path) {
        if (path.empty()) return;
        cvm::ImageSpec image;
        image.role = role;
        image.payload = use == Use::launch ? cvm::Payload::map_file(path) : cvm::Payload::open_file(path);
        spec.images.push_back(std::move(image));
    };
    add(cvm::ImageRole::firmware, firmware);
    add(cvm::ImageRole::kernel, kernel);
    add(cvm::ImageRole::initrd, initrd);
    add(cvm::ImageRole::dtb, dtb);
    for (const auto& [name, value] : backend_options)
        if (!value.empty()) spec.options[name] = value;
    if (!vmm_type.empty()) spec.options["vmm"] = vmm_type == "QEMU" ? "qemu" : vmm_type;
    for (const auto& kv : raw_options) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) throw UsageError(fmt::format("--opt '{}': expected KEY=VALUE", kv));
        const std::string key = kv.substr(0, eq);
        // "--layout kvmtool --opt layout=qemu": which one was meant?
        if (spec.options.count(key))
            throw UsageError(fmt::format("--opt {} and --{} (or another --opt {}) both set option '{}'", kv, key, key,
                                         key));
        spec.options[key] = kv.substr(eq + 1);
    }
    return spec;
}

} // namespace cvmlaunch
