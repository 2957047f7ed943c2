#include "backends/arm-cca/realm_plan.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "backends/arm-cca/layout.hpp"
#include "backends/arm-cca/realm_options.hpp"
#include "cvm/error.hpp"
#include "cvm/spec.hpp"

namespace cvm::cca {
namespace {

} // namespace

// A header can place the kernel anywhere (text_offset wraps past 2^64 to
// below RAM): before a RIM is predicted, every load but the firmware (which
// the qemu layout puts in flash below RAM) must lie in the realm's RAM, and
// no two loads may overlap.
LaunchPlan build_realm_plan(const VmSpec& spec, const std::map<std::string, std::string>& resolved) {
    RealmOptions options = parse_realm_options(resolved);
    LayoutInputs in;
    in.spec = &spec;
    in.pmu = options.pmu;
    for (const auto& image : spec.images) {
        if (!image.measured)
            throw Error(fmt::format("arm-cca: the {} image is marked unmeasured; realm images are populated with "
                                    "measurement", to_string(image.role)), 0, image.payload.name());
        if (image.role == ImageRole::blob)
            throw Error("arm-cca: extra blobs are not part of any realm layout", 0, image.payload.name());
    }
    in.kernel = spec.image(ImageRole::kernel);
    in.initrd = spec.image(ImageRole::initrd);
    in.firmware = spec.image(ImageRole::firmware);
    in.dtb = spec.image(ImageRole::dtb);
    if (spec.vcpus.count == 0 || spec.vcpus.count > 255)
        throw Error(fmt::format("{} vCPUs requested: arm-cca supports 1 to 255", spec.vcpus.count));

    RealmLayout layout;
    if (options.layout == "kvmtool") layout = kvmtool_layout(in);
    else if (options.layout == "qemu") layout = qemu_layout(in);
    else if (options.layout == "libcvm") layout = libcvm_layout(in);
    else throw Error(fmt::format("arm-cca: unknown layout '{}'", options.layout));

    HashAlgorithm algorithm = options.hash.value_or(layout.default_hash);
    RealmParams params = realm_params(options, layout.ipa_bits, algorithm);
    // A host IPA limit below the layout's width can leave RAM outside the
    // realm's whole IPA space, which no RTT can map: refused (found by the
    // options fuzzer, where a petabyte of RAM under --ipa-bits 40 made the
    // RIPAS walk enumerate blocks until memory ran out). RAM above the
    // protected half but inside the space stays predicted, as the reference
    // tool predicts it (docs/arm-cca.md, Limits).
    const std::uint64_t ipa_space = std::uint64_t{1} << params.s2sz;
    if (layout.ram_size > ipa_space || layout.ram_base > ipa_space - layout.ram_size)
        throw Error(fmt::format("arm-cca: RAM [{:#x}, +{:#x}) does not fit the realm's {}-bit IPA space (limit {:#x})",
                                layout.ram_base, layout.ram_size, params.s2sz, ipa_space));

    LaunchPlan plan(kTechnology, algorithm);
    auto config = std::make_shared<RealmConfig>();
    config->layout = options.layout;
    config->abi = options.abi;
    config->rmm = options.rmm;
    config->params = params;
    config->rpv = options.rpv;
    plan.add(op::CreateVm{std::move(config)});
    plan.add(op::AddMemory{layout.ram_base, layout.ram_size, true, "ram"});
    for (const auto& region : layout.other_memory) plan.add(op::AddMemory{region.gpa, region.size, false, region.label});
    for (auto& device : layout.devices) plan.add(std::move(device));
    // Measured data in ascending IPA order, the convention every VMM follows.
    std::stable_sort(layout.loads.begin(), layout.loads.end(),
                     [](const auto& a, const auto& b) { return a.gpa < b.gpa; });
    for (auto& load : layout.loads) plan.add(op::LoadData{load.gpa, load.data, true, load.label, {}});
    plan.add(op::CreateVcpus{spec.vcpus.count});
    std::vector<op::Register> registers{{"pc", layout.pc}, {"x0", layout.x0}};
    for (int i = 1; i < 8; ++i) registers.push_back({fmt::format("x{}", i), 0});
    plan.add(op::SetRegisters{0, std::move(registers)});
    plan.add(op::Finalize{});
    // Every load inside the memory the plan adds, none over another: a
    // layout that breaks this is refused, never predicted.
    plan.check_layout();
    return plan;
}

void RealmConfig::check() const {
    if (params.flags & ~(RealmParams::kFlagSve | RealmParams::kFlagPmu))
        throw Error(fmt::format("arm-cca plan: realm flags {:#x} hold bits the model does not know", params.flags));
    if (params.s2sz == 0) throw Error("arm-cca plan: create-vm has s2sz 0");
}

RealmConfig planned_realm(const LaunchPlan& plan, const op::CreateVm& create) {
    RealmConfig realm = config_as<RealmConfig>(create, "the arm-cca plan");
    rmi_hash_algorithm(plan.algorithm());
    realm.params.algorithm = plan.algorithm();
    realm.check();
    return realm;
}

std::shared_ptr<const RealmConfig> decode_realm_config(std::span<const ConfigField> fields) {
    auto config = decode_config<RealmConfig>(fields, "the arm-cca plan's create-vm");
    config->check();
    return config;
}

} // namespace cvm::cca
