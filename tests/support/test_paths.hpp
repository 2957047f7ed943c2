// Where tests find their inputs: set by meson through the environment.
#pragma once

#include <cstdlib>
#include <string>

namespace cvmtest {

// A file under the shared reference vectors (CVM_VECTORS_DIR).
inline std::string vector_path(const std::string& relative) {
    const char* dir = std::getenv("CVM_VECTORS_DIR");
    return std::string(dir ? dir : "../shared/vectors") + "/" + relative;
}

// The tiny test guest bzImage built by the project (CVM_TINY_BZIMAGE).
inline std::string tiny_bzimage_path() {
    const char* path = std::getenv("CVM_TINY_BZIMAGE");
    return path ? path : "";
}

} // namespace cvmtest
