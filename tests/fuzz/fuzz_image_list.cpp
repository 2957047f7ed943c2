// libFuzzer target for the verifier's list of known-good images (sha256sum,
// sha384sum or sha512sum output, read by ImageList::read): the fuzzed text is
// the list file, through the library's one input path. Paths it names are
// hashed where they exist.
#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "cvm/error.hpp"
#include "cvm/eventlog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A memfd is a regular file: the list is read the way a file is.
    static const int fd = memfd_create("fuzz-image-list", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    try {
        auto list = cvm::eventlog::ImageList::read(path);
        for (const auto& image : list.images())
            if (list.find(image.algorithm, image.digest) == nullptr) __builtin_trap();  // listed means found
    } catch (const cvm::Error&) {
        // Rejection with a located error is the expected outcome for junk.
    }
    return 0;
}
