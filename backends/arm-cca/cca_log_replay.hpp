// Replay rules of Arm CCA launch logs: libcvm's ("libcvm:arm-cca") and the
// QEMU RFC's (docs/event-log.md, "Mapping: Arm CCA").
#pragma once

#include "cvm/eventlog.hpp"

namespace cvm::cca {

const eventlog::LogReplayer& cca_log_replayer();

} // namespace cvm::cca
