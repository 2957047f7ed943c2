#include "libcvm/reference/corim.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/reference/cbor_item.hpp"

namespace cvm::reference {

namespace {

namespace c = cbor;

// CBOR tags and map keys of draft-ietf-rats-corim.
constexpr std::uint64_t kTagUnsignedCorim = 501;
constexpr std::uint64_t kTagComid = 506;
constexpr std::uint64_t kTagUri = 32;
constexpr std::uint64_t kTagOid = 111;
constexpr std::uint64_t kTagBytes = 560;  // tagged-bytes

// Veraison's realm profile (veraison/corim profiles/cca/realm.go).
constexpr const char* kRealmProfile = "tag:arm.com,2025:cca_realm#1.0.0";
// The profile Veraison's SEVSNP scheme registers (veraison/services
// scheme/sevsnp/corim.go), its class-id OID 1.3.6.1.4.1.3704.3.1 (BER
// content bytes) and the mkeys of scheme.go.
constexpr const char* kSnpProfile = "tag:amd.com,2024:snp-corim-profile";
constexpr std::uint8_t kSnpClassOid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x03, 0x01};
constexpr std::uint64_t kSnpMkeyPolicy = 2;
constexpr std::uint64_t kSnpMkeyMeasurement = 641;
constexpr std::uint64_t kSnpMkeyHostData = 642;

c::Item digests(const Digest& d) {
    return c::array({c::array({c::uint(named_information_id(d.algorithm())), c::bytes(d.bytes())})});
}

// measurement-map { 0: mkey, 1: measurement-values-map }
c::Item measurement(c::Item mkey, c::Item values) {
    return c::map({{c::uint(0), std::move(mkey)}, {c::uint(1), std::move(values)}});
}

c::Item digest_values(const Digest& d) { return c::map({{c::uint(2), digests(d)}}); }
c::Item raw_value(ByteSpan raw) { return c::map({{c::uint(4), c::tag(kTagBytes, c::bytes(raw))}}); }

// unsigned-corim-map { 0: id, 1: [ 506(bstr .cbor comid) ], 3: profile? }
std::vector<std::uint8_t> wrap(const CorimIds& ids, const c::Item& environment, std::vector<c::Item> measurements,
                               const char* profile) {
    c::Item triple = c::array({environment, c::array(measurements)});
    // concise-mid-tag { 1: tag-identity { 0: tag-id }, 4: triples { 0: reference-triples } }
    c::Item comid = c::map({
        {c::uint(1), c::map({{c::uint(0), c::bytes(ids.tag_id)}})},
        {c::uint(4), c::map({{c::uint(0), c::array({triple})}})},
    });
    std::vector<std::pair<c::Item, c::Item>> corim_map{
        {c::uint(0), c::text(ids.corim_id)},
        {c::uint(1), c::array({c::tag(kTagComid, c::bytes(c::serialize(comid)))})},
    };
    if (profile) corim_map.emplace_back(c::uint(3), c::tag(kTagUri, c::text(profile)));
    return c::serialize(c::tag(kTagUnsignedCorim, c::map(corim_map)));
}

// libcvm's names for the classes no public profile covers (documented as
// libcvm's choice in docs/reference-values.md).
std::pair<const char*, const char*> vendor_model(std::string_view technology) {
    if (technology == "amd-sev") return {"Advanced Micro Devices", "SEV"};
    if (technology == "amd-sev-es") return {"Advanced Micro Devices", "SEV-ES"};
    if (technology == "riscv-cove") return {"RISC-V International", "CoVE TVM"};
    if (technology == "plain") return {"libcvm", "plain"};
    throw Error(fmt::format("no CoRIM class is defined for technology {}", technology));
}

} // namespace

std::uint64_t named_information_id(HashAlgorithm algorithm) {
    switch (algorithm) {
    case HashAlgorithm::sha256: return 1;
    case HashAlgorithm::sha384: return 7;
    case HashAlgorithm::sha512: return 8;
    }
    throw Error("unknown hash algorithm");
}

std::vector<std::uint8_t> realm_corim(const RealmFacts& realm, const CorimIds& ids) {
    if (!realm.rems.empty() && realm.rems.size() != 4)
        throw Error(fmt::format("a realm has 4 REMs, not {}", realm.rems.size()));
    // The RIM names the realm: it is the class-id as well as cca.rim.
    c::Item environment = c::map({{c::uint(0), c::map({{c::uint(0), c::tag(kTagBytes, c::bytes(realm.rim.bytes()))}})}});
    std::vector<c::Item> m{measurement(c::text("cca.rim"), digest_values(realm.rim))};
    for (std::size_t i = 0; i < realm.rems.size(); ++i)
        m.push_back(measurement(c::text(fmt::format("cca.rem{}", i)), digest_values(realm.rems[i])));
    m.push_back(measurement(c::text("cca.rpv"), raw_value(realm.rpv)));
    return wrap(ids, environment, std::move(m), kRealmProfile);
}

std::vector<std::uint8_t> snp_corim(const SnpFacts& snp, const CorimIds& ids) {
    if (snp.measurement.algorithm() != HashAlgorithm::sha384)
        throw Error("an SNP launch measurement is SHA-384");
    // Veraison finds an SNP reference value by its instance, the launch
    // measurement's bytes (scheme/sevsnp/scheme.go).
    c::Item environment = c::map({
        {c::uint(0), c::map({{c::uint(0), c::tag(kTagOid, c::bytes(ByteSpan(kSnpClassOid)))}})},
        {c::uint(1), c::tag(kTagBytes, c::bytes(snp.measurement.bytes()))},
    });
    // POLICY as the report-to-CoMID translation writes it: 8 bytes, big endian.
    std::uint8_t policy[8];
    for (int i = 0; i < 8; ++i) policy[i] = static_cast<std::uint8_t>(snp.policy >> (56 - 8 * i));
    std::vector<c::Item> m{
        measurement(c::uint(kSnpMkeyPolicy), raw_value(ByteSpan(policy))),
        measurement(c::uint(kSnpMkeyMeasurement), digest_values(snp.measurement)),
    };
    // HOST_DATA only where set: the translation omits an all-zero field.
    bool host_data_set = false;
    for (auto b : snp.host_data) host_data_set |= b != 0;
    if (host_data_set) m.push_back(measurement(c::uint(kSnpMkeyHostData), raw_value(snp.host_data)));
    return wrap(ids, environment, std::move(m), kSnpProfile);
}

std::vector<std::uint8_t> generic_corim(const LaunchValues& values, const CorimIds& ids) {
    auto [vendor, model] = vendor_model(values.technology);
    // class-map { 1: vendor, 2: model }
    c::Item environment = c::map({{c::uint(0), c::map({{c::uint(1), c::text(vendor)}, {c::uint(2), c::text(model)}})}});
    std::vector<c::Item> m{measurement(c::text("measurement"), digest_values(values.measurement))};
    for (const auto& r : values.registers) m.push_back(measurement(c::text(r.name), digest_values(r.value)));
    return wrap(ids, environment, std::move(m), nullptr);
}

std::vector<std::uint8_t> corim(const LaunchValues& values) {
    CorimIds ids = corim_ids_for(values);
    if (values.technology == "arm-cca") return realm_corim(realm_facts(values), ids);
    if (values.technology == "amd-sev-snp") return snp_corim(snp_facts(values), ids);
    return generic_corim(values, ids);
}

} // namespace cvm::reference
