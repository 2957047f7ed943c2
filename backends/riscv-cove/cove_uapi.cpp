#include "backends/riscv-cove/cove_uapi.hpp"

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm::cove {

std::string_view to_string(TsmAbi abi) { return abi == TsmAbi::v0_5 ? "v0.5" : "v0.7"; }

TsmAbi parse_tsm_abi(std::string_view text) {
    if (text == "v0.5") return TsmAbi::v0_5;
    if (text == "v0.7") return TsmAbi::v0_7;
    throw Error(fmt::format("tsm-abi '{}': expected v0.5 or v0.7", text), 0, "option tsm-abi");
}

} // namespace cvm::cove
