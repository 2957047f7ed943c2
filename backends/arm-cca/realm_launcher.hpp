// Plan -> KVM for a realm, over either out-of-tree host ABI (rme_uapi.hpp).
//
// The plan fixes what is measured and in which order; the launcher maps it
// onto the chosen ABI's call order:
//   rme-v6   (series v5, v6, v7) CREATE_VM(REALM|ipa), guest_memfd memslots
//            set private, vCPUs with KVM_ARM_VCPU_REC,
//            ID registers, GICv3, CONFIG_REALM(hash, RPV), CREATE_RD,
//            INIT_IPA over RAM, POPULATE per loaded region, PC/X0-X7,
//            VCPU_FINALIZE(REC) per vCPU, ACTIVATE, run.
//   rmi-v1x  (series v12, v13, v14) CREATE_VM(REALM|ipa), guest_memfd
//            memslots set private, vCPUs,
//            ID registers, GICv3, PC/X0-X7, KVM_ARM_RMI_POPULATE per loaded
//            region until done (the first creates the realm), run (the first
//            KVM_RUN creates the RECs and activates).
#pragma once

#include <cstddef>

#include "cvm/backend.hpp"
#include "cvm/plan.hpp"

namespace cvm::cca {

RunResult launch_realm(const LaunchPlan& plan, const RunOptions& options);
// The same on a host whose kernel uses `host_page_size` pages (the default
// asks sysconf); tests use it to launch as a 16 or 64 KiB-page host would.
RunResult launch_realm(const LaunchPlan& plan, const RunOptions& options, std::size_t host_page_size);

} // namespace cvm::cca
