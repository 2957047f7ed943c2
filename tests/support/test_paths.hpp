// Where tests find their inputs: set by meson through the environment.
#pragma once

#include <cstdlib>
#include <string>

namespace cvmtest {

// The shared reference vectors: values independent tools produced on real
// inputs. They live beside the project, not in it (CVM_VECTORS_DIR, set by
// meson from -Dvectors), so a clone of the project alone has none.
inline std::string vectors_dir() {
    const char* dir = std::getenv("CVM_VECTORS_DIR");
    return dir ? dir : "../shared/vectors";
}
// A file under the shared reference vectors.
inline std::string vector_path(const std::string& relative) { return vectors_dir() + "/" + relative; }

// The tiny test guest bzImage built by the project (CVM_TINY_BZIMAGE).
inline std::string tiny_bzimage_path() {
    const char* path = std::getenv("CVM_TINY_BZIMAGE");
    return path ? path : "";
}

// True when the test runs under an emulator (a cross build's tests under
// qemu-user: meson names the wrapper in MESON_EXE_WRAPPER). Exhaustive sweeps
// (every flipped byte, every reference row) then check a sample: the sweep's
// logic is architecture-neutral and runs in full in the native and sanitizer
// builds, while the emulated run is there to catch what differs per target.
inline bool under_emulation() {
    const char* wrapper = std::getenv("MESON_EXE_WRAPPER");
    return wrapper && *wrapper;
}

} // namespace cvmtest
