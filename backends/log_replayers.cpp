// The replay rules of every technology whose launch log is not the plain
// software measurement. A sibling of table.cpp, kept apart so that the
// backend interface stays free of event-log types.
#include "cvm/eventlog.hpp"

#include "backends/amd-sev/sev_log.hpp"
#include "backends/arm-rme/cca_log_replay.hpp"
#include "backends/riscv-cove/cove_log.hpp"

namespace cvm::eventlog {

std::span<const LogReplayer* const> all_log_replayers() {
    static const LogReplayer* const table[] = {
        &cca::cca_log_replayer(),
        &sev::sev_log_replayer(),
        &sev::sev_es_log_replayer(),
        &sev::sev_snp_log_replayer(),
        &cove::cove_log_replayer(),
    };
    return table;
}

} // namespace cvm::eventlog
