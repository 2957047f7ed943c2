// A build without libcbor (a cross sysroot without libcbor-dev): the other
// formats work, CoRIM says what is missing.
#include "libcvm/reference/corim.hpp"

#include "cvm/error.hpp"

namespace cvm::reference {

std::vector<std::uint8_t> corim(const LaunchValues&) {
    throw Error("this libcvm was built without libcbor (libcbor-dev), which CoRIM output needs");
}

} // namespace cvm::reference
