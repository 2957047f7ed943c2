#include "spec_options.hpp"

#include <set>

#include <fmt/format.h>

#include "cvm/backend.hpp"
#include "cvm/error.hpp"

namespace cvmlaunch {

void SpecOptions::add_to(CLI::App& app) {
    std::string techs;
    for (const cvm::Backend* b : cvm::all_backends())
        techs += fmt::format("\n    {:<12} {}", b->name(), b->summary());
    app.add_option("--tech", technology, "Technology (default plain):" + techs);
    app.add_option("--kernel", kernel, "Kernel image file (plain: an x86_64 bzImage, an arm64 Image or a RISC-V Image)");
    app.add_option("--initrd", initrd, "Initial ramdisk file");
    app.add_option("--firmware", firmware, "Firmware image file, for technologies that boot firmware");
    app.add_option("--dtb", dtb, "Device tree blob to use as is, for technologies with a DTB");
    app.add_option("--cmdline", cmdline, "Kernel command line");
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
    for (const auto& [option_name, text] : help) {
        const std::string name = option_name;  // a lambda cannot capture a structured binding (clang 14)
        auto* target = &backend_options[name];
        auto* option = app.add_option("--" + name, *target, text);
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
}

cvm::VmSpec SpecOptions::to_spec() const {
    cvm::VmSpec spec;
    spec.technology = technology;
    spec.memory.size = cvm::parse_size(memory, "--memory");
    spec.vcpus.count = vcpus;
    spec.cmdline = cmdline;
    auto add = [&](cvm::ImageRole role, const std::string& path) {
        if (path.empty()) return;
        cvm::ImageSpec image;
        image.role = role;
        image.payload = cvm::Payload::map_file(path);
        spec.images.push_back(std::move(image));
    };
    add(cvm::ImageRole::firmware, firmware);
    add(cvm::ImageRole::kernel, kernel);
    add(cvm::ImageRole::initrd, initrd);
    add(cvm::ImageRole::dtb, dtb);
    for (const auto& [name, value] : backend_options)
        if (!value.empty()) spec.options[name] = value;
    for (const auto& kv : raw_options) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
            throw cvm::Error(fmt::format("--opt '{}': expected KEY=VALUE", kv));
        spec.options[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return spec;
}

} // namespace cvmlaunch
