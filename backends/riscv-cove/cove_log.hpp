// Replay rules of riscv-cove launch logs (docs/event-log.md, "Mapping:
// RISC-V CoVE").
#pragma once

#include "cvm/eventlog.hpp"

namespace cvm::cove {

const eventlog::LogReplayer& cove_log_replayer();

} // namespace cvm::cove
