// VmSpec: what the user asks for, before any layout decision.
//
// A spec names the technology, the guest memory, the images with their source
// files and whether they are measured, the vCPUs and the technology's options.
// A backend's planner turns it into a LaunchPlan; nothing else interprets it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cvm/bytes.hpp"

namespace cvm {

enum class ImageRole { kernel, initrd, firmware, dtb, blob };
std::string_view to_string(ImageRole role);

struct ImageSpec {
    ImageRole role = ImageRole::blob;
    Payload payload;                          // mapped file or caller's bytes
    bool measured = true;
    std::optional<std::uint64_t> gpa;         // blobs only: where to load
};

struct MemorySpec {
    std::uint64_t size = 256ull << 20;        // bytes of guest RAM
};

struct VcpuSpec {
    unsigned count = 1;
};

struct VmSpec {
    std::string technology = "plain";
    MemorySpec memory;
    VcpuSpec vcpus;
    std::vector<ImageSpec> images;
    std::string cmdline;
    // Technology options (hash algorithm, policy, layout, ...), validated by the
    // backend against the options it declares: an unknown key is an error.
    std::map<std::string, std::string> options;

    // The single image of `role`, or nullptr. Throws if there are several.
    const ImageSpec* image(ImageRole role) const;
};

// Parses "256M", "1G", "512MiB", "4096" (bytes). Throws naming `what`.
std::uint64_t parse_size(std::string_view text, std::string_view what);

// The one codec for numbers in options and plans: an unsigned integer in
// decimal or with a 0x prefix in hex, the whole text, from `min` to `max`.
// Throws a cvm::Error for input `what` ("option policy") naming the range.
std::uint64_t parse_unsigned(std::string_view text, std::string_view what, std::uint64_t min = 0,
                             std::uint64_t max = ~std::uint64_t{0});

} // namespace cvm
