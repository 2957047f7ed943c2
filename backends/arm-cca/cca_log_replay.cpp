// Recomputes the RIM by running the RMM measurement operations the events
// describe, in log order: REALM_CREATE, INIT_RIPAS, DATA_CREATE per image
// granule (the bytes read from the verifier's file with the recorded digest,
// never taken on the log's word), REC_CREATE. The log's digests only select
// images; every RIM input is recomputed.
#include "backends/arm-cca/cca_log_replay.hpp"


#include <fmt/format.h>

#include "backends/arm-cca/cca_log.hpp"
#include "backends/arm-cca/rim.hpp"
#include "backends/arm-cca/rim_predictor.hpp"
#include "cvm/error.hpp"

namespace cvm::cca {
namespace {

// QEMU's log region is 64 KiB; anything far larger in an unmeasured image
// event is refused rather than replayed granule by granule.
constexpr std::uint64_t kMaxUnmeasured = 256ull << 20;

struct Replay {
    const eventlog::Log& log;
    const std::string& name;
    const eventlog::ImageList& images;
    eventlog::Verification& out;
    bool libcvm = false;

    std::optional<Rim> rim;
    unsigned s2sz = 0;
    PopulatedGranules populated;
    unsigned recs = 0;

    // The digests of a libcvm tagged event hash its data; the RFC's are empty.
    void check_tag_digests(const eventlog::Event& e) {
        if (e.digests.empty() && libcvm)
            throw Error("no digest: libcvm hashes every tagged event's data into each bank");
        for (const auto& d : e.digests) {
            auto algorithm = eventlog::hash_algorithm(d.algorithm);
            if (!algorithm) throw Error(fmt::format("a {} digest, which libcvm cannot check", eventlog::algorithm_name(d.algorithm)));
            Digest expected = hash(*algorithm, e.data);
            if (to_hex(d.bytes) != expected.hex())
                throw Error(fmt::format("the {} digest {} is not the hash of the event data, {}",
                                        eventlog::algorithm_name(d.algorithm), to_hex(d.bytes), expected.hex()));
        }
    }

    Rim& need_rim(const char* what) {
        if (!rim) throw Error(fmt::format("{} before REALM_CREATE", what));
        if (recs) throw Error(fmt::format("{} after REC_CREATE: libcvm's model has the boot REC last", what));
        return *rim;
    }

    std::string tagged(const eventlog::Event& e) {
        check_tag_digests(e);
        if (e.digests.empty()) out.unbound.push_back(fmt::format("{} (a tagged event without digest)", eventlog::event_label(e)));
        auto t = log::split_tagged(e.data, name, e.data_offset);
        switch (t.id) {
        case log::kTagRealmCreate: {
            if (rim) throw Error("a second REALM_CREATE");
            auto r = log::decode_realm_create(t.payload, name, t.payload_offset);
            RealmParams p;
            if (r.flags & ~(RealmParams::kFlagSve | RealmParams::kFlagPmu))
                throw Error(fmt::format("REALM_CREATE flags {:#x}: the model knows SVE (bit 1) and PMU (bit 2) only",
                                        r.flags));
            if (r.hash_algo > 1)
                throw Error(fmt::format("REALM_CREATE hash_algo {}: expected 0 (SHA-256) or 1 (SHA-512)", r.hash_algo));
            if (r.s2sz < 32 || r.s2sz > 48)
                throw Error(fmt::format("REALM_CREATE s2sz {}: the model covers IPA widths 32 to 48", r.s2sz));
            p.flags = r.flags;
            p.s2sz = r.s2sz;
            p.sve_vl = r.sve_vl;
            p.num_bps = r.num_bps;
            p.num_wps = r.num_wps;
            p.pmu_num_ctrs = r.pmu_num_ctrs;
            p.algorithm = r.hash_algo == 0 ? HashAlgorithm::sha256 : HashAlgorithm::sha512;
            rim.emplace(p);
            s2sz = r.s2sz;
            return fmt::format("REALM_CREATE flags {:#x} s2sz {} sve_vl {} num_bps {} num_wps {} pmu_num_ctrs {} {}",
                               r.flags, r.s2sz, r.sve_vl, r.num_bps, r.num_wps, r.pmu_num_ctrs, to_string(p.algorithm));
        }
        case log::kTagInitRipas: {
            Rim& current = need_rim("INIT_RIPAS");
            auto r = log::decode_init_ripas(t.payload, name, t.payload_offset);
            if (r.size == 0 || r.base + r.size < r.base || r.base + r.size > (1ull << s2sz))
                throw Error(fmt::format("INIT_RIPAS {:#x}+{:#x} is not inside the {}-bit IPA space", r.base, r.size, s2sz));
            for (auto [b, top] : ripas_blocks(r.base, r.base + r.size, s2sz)) current.ripas(b, top);
            return fmt::format("INIT_RIPAS {:#x}+{:#x}", r.base, r.size);
        }
        case log::kTagRecCreate: {
            if (!rim) throw Error("REC_CREATE before REALM_CREATE");
            if (recs) throw Error("a second REC_CREATE: only the boot REC is RUNNABLE and measured in the model");
            auto r = log::decode_rec_create(t.payload, name, t.payload_offset);
            if (r.flags != log::kRecRunnable)
                throw Error(fmt::format("REC_CREATE flags {:#x}: the model measures the RUNNABLE boot REC (flags 1)",
                                        r.flags));
            rim->rec(r.pc, r.gprs);
            ++recs;
            return fmt::format("REC_CREATE pc {:#x} x0 {:#x}", r.pc, r.gprs[0]);
        }
        default:
            throw Error(fmt::format("tagged event id {}: expected 1 (REALM_CREATE), 2 (INIT_RIPAS) or 3 (REC_CREATE)",
                                    t.id));
        }
    }

    std::string image(const eventlog::Event& e) {
        auto blob = log::decode_blob2(e.data, name, e.data_offset);
        // The description enters no digest: in libcvm's logs it must be one
        // of the names libcvm writes, firmware as BLOB2 and the rest as
        // POST_CODE2, so that a changed label does not pass unnoticed.
        if (libcvm) {
            bool firmware = e.type == eventlog::EV_EFI_PLATFORM_FIRMWARE_BLOB2;
            bool known = firmware ? blob.description == "FIRMWARE"
                                  : blob.description == "KERNEL" || blob.description == "INITRD" ||
                                        blob.description == "DTB";
            if (!known)
                throw Error(fmt::format("{} \"{}\": libcvm's logs describe images as {}", eventlog::event_type_name(e.type),
                                        blob.description,
                                        firmware ? "FIRMWARE" : "KERNEL, INITRD or DTB"));
        }
        // The RFC writes its log region after the boot REC; libcvm's plans never do.
        Rim& current = recs && !libcvm ? *rim : need_rim("an image");
        if (!rim) throw Error("an image before REALM_CREATE");
        std::string what = fmt::format("{} at {:#x}+{:#x}", blob.description, blob.base, blob.length);
        out.unbound.push_back(fmt::format("{} ({} BlobBase)", eventlog::event_label(e), blob.description));
        if (blob.length == 0 || blob.base + blob.length < blob.base || blob.base + blob.length > (1ull << s2sz))
            throw Error(fmt::format("{} is not inside the {}-bit IPA space", what, s2sz));
        if (e.digests.empty()) {
            if (blob.length > kMaxUnmeasured)
                throw Error(fmt::format("{}: an unmeasured region over {} MiB is refused", what, kMaxUnmeasured >> 20));
            populate_granules(current, populated, blob.base, blob.length, nullptr, blob.description);
            return what + ": unmeasured";
        }
        const eventlog::KnownImage* found = nullptr;
        for (const auto& d : e.digests)
            if (auto algorithm = eventlog::hash_algorithm(d.algorithm))
                if (const auto* k = images.find(*algorithm, d.bytes); k && !k->path.empty()) found = k;
        if (!found) {
            std::vector<std::string> digests;
            for (const auto& d : e.digests) digests.push_back(eventlog::algorithm_name(d.algorithm) + " " + to_hex(d.bytes));
            throw Error(fmt::format("{}: no readable file in the images list has the digest ({})", what,
                                    fmt::join(digests, ", ")));
        }
        Payload file = Payload::map_file(found->path);
        if (file.size() != blob.length)
            throw Error(fmt::format("{}: {} has {} bytes, the event loads {}", what, found->path, file.size(), blob.length));
        for (const auto& d : e.digests) {
            auto algorithm = eventlog::hash_algorithm(d.algorithm);
            if (!algorithm) throw Error(fmt::format("a {} digest, which libcvm cannot check", eventlog::algorithm_name(d.algorithm)));
            Digest actual = hash(*algorithm, file);
            if (to_hex(d.bytes) != actual.hex())
                throw Error(fmt::format("{}: the {} digest {} is not that of {}, {}", what,
                                        eventlog::algorithm_name(d.algorithm), to_hex(d.bytes), found->path, actual.hex()));
        }
        populate_granules(current, populated, blob.base, blob.length, &file, blob.description);
        return fmt::format("{}: matches {}", what, found->what);
    }

    void run() {
        for (const auto& e : log.events) {
            std::string label = eventlog::event_label(e);
            try {
                if (e.pcr_index != 0)
                    throw Error(fmt::format("PCR {}: a launch log measures into the RIM, PCR 0, only", e.pcr_index));
                std::string verdict;
                if (e.type == eventlog::EV_NO_ACTION) {
                    auto v = log::decode_vm_version(e.data, name, e.data_offset);
                    verdict = fmt::format("VM VERSION \"{}\" \"{}\" ram {:#x} cpus {}: recorded, not measured", v.name,
                                          v.version, v.ram_size, v.num_cpus);
                } else if (e.type == eventlog::EV_EVENT_TAG) {
                    verdict = tagged(e);
                } else if (e.type == eventlog::EV_POST_CODE2 || e.type == eventlog::EV_EFI_PLATFORM_FIRMWARE_BLOB2) {
                    verdict = image(e);
                } else {
                    throw Error(fmt::format("{}: a CCA launch log has EV_NO_ACTION, EV_EVENT_TAG, EV_POST_CODE2 and "
                                            "EV_EFI_PLATFORM_FIRMWARE_BLOB2 events", eventlog::event_type_name(e.type)));
                }
                out.checked.push_back(fmt::format("{}: {}", label, verdict));
            } catch (const Error& error) {
                out.failures.push_back(fmt::format("{}: {}", label, error.what()));
                // Later steps extend a RIM that is already wrong: stop here.
                return;
            }
        }
        if (!rim) out.failures.push_back("the log has no REALM_CREATE event");
        else if (!recs) out.failures.push_back("the log has no REC_CREATE event: the realm would not run");
        else out.replayed = rim->value();
    }
};

class CcaLogReplayer final : public eventlog::LogReplayer {
public:
    std::string_view technology() const override { return "arm-cca"; }
    bool recognizes(const eventlog::Log& log) const override {
        std::string vendor(log.spec_id.vendor_info.begin(), log.spec_id.vendor_info.end());
        return vendor == eventlog::vendor_info_for(technology()) || log.dialect == eventlog::Dialect::qemu_cca_rfc;
    }
    void verify(const eventlog::Log& log, const std::string& name, const eventlog::ImageList& images,
                eventlog::Verification& out) const override {
        Replay replay{log, name, images, out, log.dialect != eventlog::Dialect::qemu_cca_rfc, {}, 0, {}, 0};
        replay.run();
    }
    std::optional<std::string> describe(const eventlog::Event& e, const std::string& name) const override {
        try {
            if (e.type == eventlog::EV_NO_ACTION) {
                auto v = log::decode_vm_version(e.data, name, e.data_offset);
                return fmt::format("VM VERSION \"{}\" \"{}\" ram_size {:#x} num_cpus {}", v.name, v.version,
                                   v.ram_size, v.num_cpus);
            }
            if (e.type == eventlog::EV_POST_CODE2 || e.type == eventlog::EV_EFI_PLATFORM_FIRMWARE_BLOB2) {
                auto b = log::decode_blob2(e.data, name, e.data_offset);
                return fmt::format("{} at {:#x}+{:#x}{}", b.description, b.base, b.length,
                                   e.digests.empty() ? " (unmeasured)" : "");
            }
            if (e.type != eventlog::EV_EVENT_TAG) return std::nullopt;
            auto t = log::split_tagged(e.data, name, e.data_offset);
            if (t.id == log::kTagRealmCreate) {
                auto r = log::decode_realm_create(t.payload, name, t.payload_offset);
                return fmt::format("REALM_CREATE flags {:#x} s2sz {} sve_vl {} num_bps {} num_wps {} pmu_num_ctrs {} "
                                   "hash_algo {}", r.flags, r.s2sz, r.sve_vl, r.num_bps, r.num_wps, r.pmu_num_ctrs,
                                   r.hash_algo);
            }
            if (t.id == log::kTagInitRipas) {
                auto r = log::decode_init_ripas(t.payload, name, t.payload_offset);
                return fmt::format("INIT_RIPAS {:#x}+{:#x}", r.base, r.size);
            }
            if (t.id == log::kTagRecCreate) {
                auto r = log::decode_rec_create(t.payload, name, t.payload_offset);
                return fmt::format("REC_CREATE flags {:#x} pc {:#x} x0 {:#x}", r.flags, r.pc, r.gprs[0]);
            }
        } catch (const Error& error) {
            return fmt::format("undecodable: {}", error.message());
        }
        return std::nullopt;
    }
};

} // namespace

const eventlog::LogReplayer& cca_log_replayer() {
    static const CcaLogReplayer rules;
    return rules;
}

} // namespace cvm::cca
