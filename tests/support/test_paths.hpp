// Where tests find their inputs: set by meson through the environment.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace cvmtest {

// The reference vectors: values independent tools produced on real inputs,
// carried in tests/vectors (CVM_VECTORS_DIR, set by meson from -Dvectors).
inline std::string vectors_dir() {
    const char* dir = std::getenv("CVM_VECTORS_DIR");
    return dir ? dir : "tests/vectors";
}
// Where scripts/fetch-vectors put the external inputs (tests/vectors/external.tsv).
inline std::string external_vectors_dir() {
    const char* dir = std::getenv("CVM_EXTERNAL_VECTORS_DIR");
    return dir ? dir : ".cache/vectors";
}
// A vector file: the project's own, or else the fetched external input.
inline std::string vector_path(const std::string& relative) {
    std::string own = vectors_dir() + "/" + relative;
    return std::filesystem::exists(own) ? own : external_vectors_dir() + "/" + relative;
}
// Why the vector file `relative` cannot be read here, or "" if it can: the
// reason a test that needs it gives for skipping.
inline std::string vector_missing(const std::string& relative) {
    if (std::filesystem::exists(vector_path(relative))) return "";
    return relative + " is an external input (tests/vectors/external.tsv) that is not at " + external_vectors_dir() +
           ": scripts/fetch-vectors fetches it";
}

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
