#include "libcvm/plan/device_set.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cvm/error.hpp"

namespace cvm {

DeviceSet::DeviceSet(const std::vector<op::AddDevice>& devices, std::initializer_list<DeviceKind> known,
                     std::string machine)
    : devices_(devices), machine_(std::move(machine)) {
    for (const auto& device : devices)
        if (std::find(known.begin(), known.end(), device.kind) == known.end())
            throw Error(fmt::format("{} has no description of a {} device", machine_, op::to_string(device.kind)));
}

const op::AddDevice& DeviceSet::only(DeviceKind kind) const {
    const op::AddDevice* found = optional(kind);
    if (!found) throw Error(fmt::format("{} needs a {} device, which the plan lacks", machine_, op::to_string(kind)));
    return *found;
}

const op::AddDevice* DeviceSet::optional(DeviceKind kind) const {
    auto found = all(kind);
    if (found.size() > 1)
        throw Error(fmt::format("{} takes one {} device, the plan has {}", machine_, op::to_string(kind), found.size()));
    if (!found.empty() && found.front()->regions.empty())
        throw Error(fmt::format("{}: the {} device has no registers", machine_, op::to_string(kind)));
    return found.empty() ? nullptr : found.front();
}

std::vector<const op::AddDevice*> DeviceSet::all(DeviceKind kind) const {
    std::vector<const op::AddDevice*> found;
    for (const auto& device : devices_)
        if (device.kind == kind) found.push_back(&device);
    return found;
}

} // namespace cvm
