// Guest RAM: anonymous host mappings, each backing one GPA range.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cvm/plan.hpp"
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

class Vm;

// The ordinary launchers' two memory operations. An add-memory becomes a
// region of fresh memory and the memslot numbered as the region (one slot
// per region, in plan order); a load-data is copied in. `vm` may be empty
// if the plan adds memory before creating the VM, which is refused.
void add_memory_slot(const Vm* vm, GuestMemory& memory, const op::AddMemory& add);
void copy_load(const GuestMemory& memory, const op::LoadData& load);

} // namespace cvm
