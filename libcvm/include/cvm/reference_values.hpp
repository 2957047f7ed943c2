// Reference values for verifier services: one predicted launch written in
// the formats their provisioning interfaces take (docs/reference-values.md).
//   corim      Veraison's unsigned CoRIM (CBOR), with the profile a verifier
//              of the technology matches where one exists;
//   trustee    a Trustee RVPS "sample" message with the reference-value names
//              Trustee's policies query;
//   keybroker  veraison/keybroker-demo's --reference-values JSON (realm RIMs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cvm/digest.hpp"
#include "cvm/measurement.hpp"
#include "cvm/plan.hpp"

namespace cvm::reference {

enum class Format { corim, trustee, keybroker };

// "corim", "trustee" or "keybroker"; throws an Error naming the choices.
Format parse_format(std::string_view name);
std::string_view to_string(Format format);

// What a verifier matches for one predicted launch: the measurement, the
// further registers and the launch's configuration (the CreateVm fields: an
// SNP policy and HOST_DATA, a realm's RPV, ...).
struct LaunchValues {
    std::string technology;
    Digest measurement;
    std::vector<NamedDigest> registers;
    std::vector<ConfigField> config;
};

LaunchValues launch_values(const LaunchPlan& plan, const Measurement& measurement);

// The document: CBOR for corim, UTF-8 JSON text for the others. Throws an
// Error naming what the format cannot carry (a technology it has no
// verifier for, a digest size its grammar refuses).
std::vector<std::uint8_t> render(Format format, const LaunchValues& values);

} // namespace cvm::reference
