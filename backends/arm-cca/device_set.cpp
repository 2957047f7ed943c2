#include <algorithm>

#include <fmt/format.h>

#include "backends/arm-cca/realm_dtb.hpp"
#include "cvm/error.hpp"

namespace cvm::cca {

DeviceSet::DeviceSet(const std::vector<op::AddDevice>& devices, std::initializer_list<DeviceKind> known,
                     const char* layout)
    : devices_(devices), layout_(layout) {
    for (const auto& device : devices)
        if (std::find(known.begin(), known.end(), device.kind) == known.end())
            throw Error(fmt::format("{} layout: its device tree has no node for a {} device", layout,
                                    op::to_string(device.kind)));
}

const op::AddDevice& DeviceSet::only(DeviceKind kind) const {
    auto found = all(kind);
    if (found.size() != 1)
        throw Error(fmt::format("{} layout: its device tree needs exactly one {} device, the plan has {}", layout_,
                                op::to_string(kind), found.size()));
    return *found.front();
}

std::vector<const op::AddDevice*> DeviceSet::all(DeviceKind kind) const {
    std::vector<const op::AddDevice*> found;
    for (const auto& device : devices_)
        if (device.kind == kind) found.push_back(&device);
    return found;
}

} // namespace cvm::cca
