// Plan -> KVM for a realm, over either out-of-tree host ABI (rme_uapi.hpp).
//
// The plan fixes what is measured and in which order; the launcher maps it
// onto the chosen ABI's call order:
//   rme-v6   CREATE_VM(REALM|ipa), memslots, vCPUs with KVM_ARM_VCPU_REC,
//            ID registers, GICv3, CONFIG_REALM(hash, RPV), CREATE_RD,
//            INIT_IPA over RAM, POPULATE per loaded region, PC/X0-X7,
//            VCPU_FINALIZE(REC) per vCPU, ACTIVATE, run.
//   rmi-v1x  CREATE_VM(REALM|ipa), guest_memfd memslots set private, vCPUs,
//            ID registers, GICv3, PC/X0-X7, KVM_ARM_RMI_POPULATE per loaded
//            region until done (the first creates the realm), run (the first
//            KVM_RUN creates the RECs and activates).
#pragma once

#include "cvm/backend.hpp"
#include "cvm/plan.hpp"

namespace cvm::cca {

RunResult launch_realm(const LaunchPlan& plan, const RunOptions& options);

} // namespace cvm::cca
