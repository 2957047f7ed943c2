// Guest RAM: anonymous host mappings, each backing one GPA range.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "libcvm/kvm/mapping.hpp"

namespace cvm {

class GuestMemory {
public:
    struct Region {
        std::uint64_t gpa;
        Mapping host;
    };

    // Maps `size` bytes of zeroed memory for [gpa, gpa+size). Throws on
    // failure or overlap with an existing region.
    const Region& add(std::uint64_t gpa, std::uint64_t size);
    // The host bytes of [gpa, gpa+size), which must lie inside one region.
    std::span<std::uint8_t> at(std::uint64_t gpa, std::uint64_t size) const;
    const std::vector<Region>& regions() const noexcept { return regions_; }

private:
    std::vector<Region> regions_;
};

} // namespace cvm
