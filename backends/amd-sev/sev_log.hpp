// Replay rules of SEV, SEV-ES and SNP launch logs (docs/event-log.md,
// "Mapping: AMD SEV, SEV-ES, SEV-SNP").
#pragma once

#include "cvm/eventlog.hpp"

namespace cvm::sev {

const eventlog::LogReplayer& sev_log_replayer();
const eventlog::LogReplayer& sev_es_log_replayer();
const eventlog::LogReplayer& sev_snp_log_replayer();

} // namespace cvm::sev
