// Reference values of AMD SEV launches beyond the launch digest, for guest
// owners' and verifiers' tools (cvm-launch's --dump-vmsa and
// --mode snp:ovmf-hash among them): the VMSA pages an SEV-ES or SNP launch
// measures, and SNP's launch digest of the firmware alone.
#pragma once

#include <cstdint>
#include <vector>

#include "cvm/digest.hpp"
#include "cvm/plan.hpp"

namespace cvm::sev {

// The 4096-byte VMSA page of each vCPU, in vCPU order, that the launch of an
// amd-sev-es or amd-sev-snp plan measures. Throws for any other plan.
std::vector<std::vector<std::uint8_t>> vmsa_pages(const LaunchPlan& plan);

// The SNP launch digest after the firmware's pages alone, loaded to end at
// 4 GiB as QEMU loads OVMF: the "OVMF hash" that sev-snp-measure's
// snp:ovmf-hash mode prints and its --snp-ovmf-hash option takes.
Digest snp_ovmf_hash(const Payload& firmware);

} // namespace cvm::sev
