#include "libcvm/kvm/guest_memory.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "libcvm/kvm/kvm.hpp"

namespace cvm {

const GuestMemory::Region& GuestMemory::add(std::uint64_t gpa, std::uint64_t size) {
    if (size == 0 || size % 4096 != 0 || gpa % 4096 != 0)
        throw Error(fmt::format("guest memory [{:#x}, +{:#x}) is not page aligned and non-empty", gpa, size));
    for (const auto& r : regions_)
        if (gpa < r.gpa + r.host.size() && r.gpa < gpa + size)
            throw Error(fmt::format("guest memory [{:#x}, +{:#x}) overlaps [{:#x}, +{:#x})", gpa, size,
                                    r.gpa, r.host.size()));
    // MAP_NORESERVE: a guest touches only what it uses, so do not charge
    // the whole size up front.
    void* host = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (host == MAP_FAILED)
        throw Error(fmt::format("cannot map {:#x} bytes of guest memory", size), errno);
    regions_.push_back(Region{gpa, Mapping(host, size)});
    return regions_.back();
}

std::span<std::uint8_t> GuestMemory::at(std::uint64_t gpa, std::uint64_t size) const {
    for (const auto& r : regions_)
        if (gpa >= r.gpa && size <= r.host.size() && gpa - r.gpa <= r.host.size() - size)
            return {r.host.bytes() + (gpa - r.gpa), size};
    throw Error(fmt::format("[{:#x}, +{:#x}) is not inside guest memory", gpa, size));
}

void add_memory_slot(const Vm* vm, GuestMemory& memory, const op::AddMemory& add) {
    if (!vm) throw Error("the plan adds memory before creating the VM");
    const auto slot = static_cast<std::uint32_t>(memory.regions().size());
    const auto& region = memory.add(add.gpa, add.size);
    vm->set_user_memory_region(slot, add.gpa, add.size, region.host.get());
}

void copy_load(const GuestMemory& memory, const op::LoadData& load) {
    auto bytes = load.data.bytes();
    auto target = memory.at(load.gpa, bytes.size());
    std::memcpy(target.data(), bytes.data(), bytes.size());
}

} // namespace cvm
