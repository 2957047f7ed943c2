#include "backends/amd-sev/sev_planner.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "backends/amd-sev/kernel_hashes.hpp"
#include "backends/amd-sev/ovmf_table.hpp"
#include "backends/amd-sev/reset_state.hpp"
#include "backends/amd-sev/sev_predictor.hpp"
#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/snp_id_block.hpp"
#include "cvm/spec.hpp"
#include "libcvm/x86/pc_machine.hpp"

namespace cvm::sev {
namespace {

constexpr std::uint64_t kPage = 4096;
// RAM above this goes above 4 GiB, leaving room for the firmware and devices.
constexpr std::uint64_t kLowRamLimit = 0xc000'0000;
// nonce, wrapped TEK || TIK, wrap IV, wrap MAC, policy MAC (SEV API, LAUNCH_START).
constexpr std::size_t kSessionBlobSize = 16 + 32 + 16 + 32 + 32;

// The options id-block and id-auth: the guest owner's files for
// SNP_LAUNCH_FINISH, read once here so that the plan holds the bytes the
// launch gives the firmware. Checked as the firmware will check them, so a
// wrong pair fails before any KVM call: the signatures, and the policy (the
// launch digest is checked against the finished plan's prediction).
void read_id_block(const std::map<std::string, std::string>& options, LaunchConfig& c) {
    std::string block_file, auth_file;
    if (auto it = options.find("id-block"); it != options.end()) block_file = it->second;
    if (auto it = options.find("id-auth"); it != options.end()) auth_file = it->second;
    if (block_file.empty() && auth_file.empty()) return;
    if (block_file.empty() || auth_file.empty())
        throw Error("options id-block and id-auth go together: SNP_LAUNCH_FINISH takes the ID block with its "
                    "authentication structure", 0, block_file.empty() ? "option id-block" : "option id-auth");
    c.id_block = read_input_file(block_file, kSnpIdBlockSize);
    c.id_auth = read_input_file(auth_file, kSnpIdAuthSize);
    const auto block = parse_snp_id_block(c.id_block, block_file);
    const auto auth = parse_snp_id_auth(c.id_auth, auth_file);
    if (block.policy != c.policy)
        throw Error(fmt::format("{}: the ID block's POLICY is {:#x}, the launch's SNP guest policy {:#x}; the firmware "
                                "refuses SNP_LAUNCH_FINISH unless they are equal", block_file, block.policy, c.policy),
                    0, "option id-block");
    if (auto why = check_snp_id_signatures(c.id_block, auth, auth.has_author_key()); !why.empty())
        throw Error(fmt::format("{} with {}: {}", block_file, auth_file, why), 0, "option id-auth");
}

LaunchConfig config_from_options(Mode mode, const std::map<std::string, std::string>& options) {
    LaunchConfig c;
    c.mode = mode;
    c.policy = parse_unsigned(options.at("policy"), "option policy");
    if (auto it = options.find("sev-init"); it != options.end())
        c.init = it->second == "legacy" ? InitKind::legacy : InitKind::init2;
    if (auto it = options.find("vmm"); it != options.end())
        c.vmm = it->second == "ec2" ? VmmModel::ec2 : it->second == "gce" ? VmmModel::gce : VmmModel::qemu;
    std::string dh_cert_file, session_file;
    if (auto it = options.find("owner-dh-cert"); it != options.end()) dh_cert_file = it->second;
    if (auto it = options.find("owner-session"); it != options.end()) session_file = it->second;
    if (dh_cert_file.empty() != session_file.empty())
        throw Error("options owner-dh-cert and owner-session go together: the session blob is made for that "
                    "certificate", 0, "option owner-session");
    if (!session_file.empty()) {
        // Read once, here: the plan holds the bytes the launch will use.
        auto session = Payload::map_file(session_file);
        if (session.size() != kSessionBlobSize)
            throw_format_error(session_file, 0, "SEV launch session blob size", "128 bytes",
                               fmt::format("{} bytes", session.size()));
        auto dh_cert = Payload::map_file(dh_cert_file);
        if (dh_cert.size() == 0)
            throw_format_error(dh_cert_file, 0, "guest owner PDH certificate", "a non-empty file", "0 bytes");
        c.owner_session.assign(session.bytes().begin(), session.bytes().end());
        c.owner_dh_cert.assign(dh_cert.bytes().begin(), dh_cert.bytes().end());
    }
    if (mode == Mode::snp) {
        c.sev_features = parse_unsigned(options.at("guest-features"), "option guest-features");
        if ((c.sev_features & 1) == 0)
            throw Error(fmt::format("option guest-features {:#x}: bit 0 (SNPActive) must be set", c.sev_features), 0,
                        "guest-features");
        if ((c.policy & (1ull << 17)) == 0)
            throw Error(fmt::format("option policy {:#x}: SNP guest policy bit 17 is reserved and must be 1", c.policy), 0,
                        "policy");
        read_id_block(options, c);
        if (auto it = options.find("host-data"); it != options.end() && !it->second.empty()) {
            c.host_data = from_hex(it->second, "option host-data");
            if (c.host_data.size() != kSnpHostDataSize)
                throw Error(fmt::format("option host-data has {} bytes: expected {} (64 hex digits)", c.host_data.size(),
                                        kSnpHostDataSize), 0, "option host-data");
        }
    } else if (c.policy > 0xffffffffull) {
        throw Error(fmt::format("option policy {:#x}: the SEV policy is 32 bits", c.policy), 0, "policy");
    } else if (mode == Mode::es && (c.policy & 0x4) == 0) {
        throw Error(fmt::format("option policy {:#x}: an SEV-ES guest needs policy bit 2 (ES)", c.policy), 0, "policy");
    } else if (mode == Mode::sev && (c.policy & 0x4) != 0) {
        throw Error(fmt::format("option policy {:#x}: policy bit 2 (ES) asks for SEV-ES; plan for technology amd-sev-es", c.policy),
                    0, "policy");
    }
    return c;
}

Payload zero_pages(std::uint64_t size, std::string name) {
    return Payload::from_bytes(std::vector<std::uint8_t>(size, 0), std::move(name));
}

bool inside(std::uint64_t gpa, std::uint64_t size, std::uint64_t limit) { return gpa <= limit && size <= limit - gpa; }

std::string_view snp_page_type(SectionType type, VmmModel vmm, bool kernel) {
    switch (type) {
    case SectionType::sec_mem: return vmm == VmmModel::gce ? "unmeasured" : "zero";
    case SectionType::secrets: return "secrets";
    case SectionType::cpuid: return "cpuid";
    case SectionType::svsm_caa: return "zero";
    case SectionType::kernel_hashes: return kernel ? "normal" : "zero";
    }
    return "zero";
}

} // namespace

LaunchPlan build_sev_plan(const VmSpec& spec, Mode mode, const std::map<std::string, std::string>& options) {
    LaunchConfig config = config_from_options(mode, options);
    const std::string tech(technology_name(mode));

    for (const auto& image : spec.images)
        if (image.role != ImageRole::firmware && image.role != ImageRole::kernel && image.role != ImageRole::initrd)
            throw Error(fmt::format("{} boots OVMF with an optional kernel and initrd; a {} image has no place",
                                    tech, to_string(image.role)));
    // Every caller (CLI, C ABI, Python) comes through here: SEV-ES and SNP
    // build and measure one VMSA page per vCPU, so the count is bounded as
    // the other x86 planner bounds it (xAPIC ids; KVM's limit is far above).
    constexpr unsigned kMaxSevVcpus = 255;
    if (spec.vcpus.count == 0 || spec.vcpus.count > kMaxSevVcpus)
        throw Error(fmt::format("{} vCPUs requested: {} supports 1 to {}", spec.vcpus.count, tech, kMaxSevVcpus), 0,
                    "vcpus");
    const ImageSpec* firmware = spec.image(ImageRole::firmware);
    const ImageSpec* kernel = spec.image(ImageRole::kernel);
    const ImageSpec* initrd = spec.image(ImageRole::initrd);
    if (!firmware) throw Error(fmt::format("{} needs a firmware image (an OVMF build with SEV support)", tech));
    for (const ImageSpec* image : {firmware, kernel, initrd})
        if (image && !image->measured)
            throw Error(fmt::format("{}: every image of an {} launch is measured", image->payload.name(), tech));
    if (!kernel && (initrd || !spec.cmdline.empty()))
        throw Error(fmt::format("{}: an initrd or command line needs a kernel (they are measured as its companions)", tech));

    const std::string& fw_name = firmware->payload.name();
    const OvmfInfo ovmf = parse_ovmf(firmware->payload, fw_name);

    const std::uint64_t memory = spec.memory.size;
    if (memory == 0 || memory % kPage != 0)
        throw Error(fmt::format("guest memory {:#x} is not a positive multiple of 4 KiB", memory), 0, "memory");
    const std::uint64_t low = std::min(memory, kLowRamLimit);
    auto require_in_ram = [&](std::uint64_t gpa, std::uint64_t size, std::string_view what) {
        if (!inside(gpa, size, low))
            throw Error(fmt::format("{}: {} at {:#x} (+{:#x}) lies outside guest RAM below {:#x}; give the guest more memory",
                                    fw_name, what, gpa, size, low));
    };

    if ((mode == Mode::es || mode == Mode::snp) && !ovmf.reset_address)
        throw Error(fmt::format("{}: the firmware has no SEV-ES reset block in its OVMF table, so APs of an {} guest "
                                "have no start address", fw_name, tech));
    if (mode == Mode::snp && !ovmf.metadata)
        throw Error(fmt::format("{}: the firmware has no SEV metadata (\"ASEV\"), which SEV-SNP needs", fw_name));

    // OVMF works in these pages before it knows the memory map, and APs
    // start in the reset block's page: RAM must be there on every mode.
    if (ovmf.metadata)
        for (const auto& s : *ovmf.metadata)
            require_in_ram(s.gpa, s.size, fmt::format("the {} section", to_string(s.type)));
    if (mode != Mode::sev && spec.vcpus.count > 1)
        require_in_ram(*ovmf.reset_address & ~(kPage - 1), kPage, "the SEV-ES AP reset block");

    // The owner round trip's default LAUNCH_SECRET target, as QEMU's
    // sev-inject-launch-secret takes it from the same table entry.
    if (mode != Mode::snp && ovmf.secret_area && ovmf.secret_area->base && ovmf.secret_area->size) {
        require_in_ram(ovmf.secret_area->base, ovmf.secret_area->size, "the SEV secret area");
        config.secret_gpa = ovmf.secret_area->base;
        config.secret_size = ovmf.secret_area->size;
    }

    std::optional<HashTable> table;
    if (kernel) {
        table = build_hash_table(kernel->payload, initrd ? &initrd->payload : nullptr, spec.cmdline);
    }

    LaunchPlan plan(tech, mode == Mode::snp ? HashAlgorithm::sha384 : HashAlgorithm::sha256);
    plan.add(op::CreateVm{std::make_shared<LaunchConfig>(config)});
    plan.add(op::AddMemory{0, low, true, "ram"});
    if (memory > low) plan.add(op::AddMemory{kFourGiB, memory - low, true, "ram-high"});
    plan.add(op::AddMemory{ovmf.gpa, ovmf.size, true, "firmware"});
    // The PC as OVMF boots it, on KVM's irqchip, with fw_cfg handing it the
    // kernel, initrd and command line the hashes table measures: the same
    // bytes, so an AmdSev OVMF's check of them passes.
    x86::FirmwareBoot boot;
    boot.vcpus = spec.vcpus.count;
    boot.low_ram = low;
    boot.high_ram = memory - low;
    boot.kernel = kernel ? &kernel->payload : nullptr;
    boot.initrd = initrd ? &initrd->payload : nullptr;
    boot.cmdline = spec.cmdline;
    for (auto& device : x86::pc_firmware_devices(boot)) plan.add(std::move(device));
    plan.add(op::LoadData{ovmf.gpa, firmware->payload, true, "firmware", mode == Mode::snp ? "normal" : ""});

    if (mode != Mode::snp && table) {
        if (!ovmf.hash_area || ovmf.hash_area->base == 0)
            throw Error(fmt::format("{}: Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement "
                                    "(its OVMF table has no SEV hash table area, or one at GPA 0)", fw_name));
        if (ovmf.hash_area->size < kPaddedHashTableSize)
            throw Error(fmt::format("{}: the SEV hash table area holds {} bytes, the table needs {}", fw_name,
                                    ovmf.hash_area->size, kPaddedHashTableSize));
        require_in_ram(ovmf.hash_area->base, kPaddedHashTableSize, "the SEV hash table area");
        plan.add(op::LoadData{ovmf.hash_area->base,
                              Payload::from_bytes({table->begin(), table->end()}, "SEV kernel hashes table"),
                              true, "kernel-hashes", ""});
    }

    if (mode == Mode::snp) {
        std::vector<MetadataSection> sections = *ovmf.metadata;
        if (table) {
            auto hashes = std::find_if(sections.begin(), sections.end(),
                                       [](const auto& s) { return s.type == SectionType::kernel_hashes; });
            if (hashes == sections.end())
                throw Error(fmt::format("{}: Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES "
                                        "section", fw_name));
            if (!ovmf.hash_area || hashes->size != kPage || (ovmf.hash_area->base & ~(kPage - 1)) != hashes->gpa ||
                (ovmf.hash_area->base & (kPage - 1)) + kPaddedHashTableSize > kPage)
                throw Error(fmt::format("{}: the SEV hash table area does not lie in the one-page SNP_KERNEL_HASHES "
                                        "section at {:#x}", fw_name, hashes->gpa));
        }
        // EC2 measures the CPUID page after every other metadata page.
        if (config.vmm == VmmModel::ec2)
            std::stable_partition(sections.begin(), sections.end(),
                                  [](const auto& s) { return s.type != SectionType::cpuid; });
        for (const auto& s : sections) {
            std::string label(to_string(s.type));
            std::string type(snp_page_type(s.type, config.vmm, table.has_value()));
            if (s.type == SectionType::kernel_hashes && table) {
                std::vector<std::uint8_t> page(kPage, 0);
                std::copy(table->begin(), table->end(), page.begin() + (ovmf.hash_area->base & (kPage - 1)));
                plan.add(op::LoadData{s.gpa, Payload::from_bytes(std::move(page), "SNP kernel hashes page"), true,
                                      label, type});
            } else {
                plan.add(op::LoadData{s.gpa, zero_pages(s.size, label + " pages"), true, label, type});
            }
        }
    }

    plan.add(op::CreateVcpus{spec.vcpus.count});
    if (mode != Mode::sev) {
        const auto& model = options.at("vcpu-type");
        auto signature = vcpu_signature(model);
        if (!signature)
            throw Error(fmt::format("option vcpu-type '{}': unknown; known models: {}", model, vcpu_model_names()), 0,
                        "vcpu-type");
        for (unsigned i = 0; i < spec.vcpus.count; ++i)
            plan.add(reset_registers(i, i == 0 ? kBspResetEip : *ovmf.reset_address, config.vmm, *signature));
    }
    plan.add(op::Finalize{});
    if (!config.id_block.empty()) {
        // The firmware refuses an ID block whose LD is not the launch digest
        // it computed (BAD_MEASUREMENT): say so now, with both values.
        const auto block = parse_snp_id_block(config.id_block, "the ID block");
        const auto predicted = predict_launch_digest(plan);
        if (!std::equal(block.launch_digest.begin(), block.launch_digest.end(), predicted.value.bytes().begin(),
                        predicted.value.bytes().end()))
            throw Error(fmt::format("the ID block's launch digest {} is not this launch's {} (the firmware would refuse "
                                    "SNP_LAUNCH_FINISH with BAD_MEASUREMENT); make the ID block for this spec",
                                    to_hex(block.launch_digest), predicted.value.hex()), 0, "option id-block");
    }
    return plan;
}

} // namespace cvm::sev
