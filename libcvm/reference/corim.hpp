// Unsigned CoRIMs (draft-ietf-rats-corim): a tagged unsigned-corim-map (501)
// holding one CoMID (506) with one reference-values triple. Which profile,
// environment and measurement keys each technology gets is in
// docs/reference-values.md, with the public source of each.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "libcvm/reference/launch_facts.hpp"

namespace cvm::reference {

// The identities of the document: the corim-id (text) and the CoMID's
// tag-id (a UUID's 16 bytes).
struct CorimIds {
    std::string corim_id;
    std::array<std::uint8_t, 16> tag_id{};
};

// The ids libcvm gives a launch's CoRIM: a UUID (RFC 9562 version 8) made
// from the SHA-256 of the technology and the measurement, so the same
// launch always yields the same bytes; the corim-id is its text form.
CorimIds corim_ids_for(const LaunchValues& values);

// Veraison's Arm CCA realm profile: the RIM as the class-id and as cca.rim,
// the REMs given, and the RPV.
std::vector<std::uint8_t> realm_corim(const RealmFacts& realm, const CorimIds& ids);
// The AMD SEV-SNP profile as Veraison's SEVSNP scheme matches it.
std::vector<std::uint8_t> snp_corim(const SnpFacts& snp, const CorimIds& ids);
// No profile: a class named by vendor and model, one digest per register.
std::vector<std::uint8_t> generic_corim(const LaunchValues& values, const CorimIds& ids);

std::vector<std::uint8_t> corim(const LaunchValues& values);

// The IANA "Named Information Hash Algorithm" ids CoRIM digests carry.
std::uint64_t named_information_id(HashAlgorithm algorithm);

} // namespace cvm::reference
