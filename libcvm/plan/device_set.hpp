// The device records of a machine, looked up by kind, for the code that
// turns them into something else (a DTB, ACPI tables). A machine's reader
// names the kinds it has a description for; a record of another kind, a
// missing one or one too many is an error naming the machine, never a
// device silently left out of what the guest is told.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "cvm/plan.hpp"

namespace cvm {

class DeviceSet {
public:
    // Throws if a record is of a kind outside `known`. `machine` names the
    // reader in errors ("kvmtool layout's device tree").
    DeviceSet(const std::vector<op::AddDevice>& devices, std::initializer_list<DeviceKind> known, std::string machine);

    // The one record of `kind` (with at least one region); throws otherwise.
    const op::AddDevice& only(DeviceKind kind) const;
    // The record of `kind` if there is one; throws if there are two.
    const op::AddDevice* optional(DeviceKind kind) const;
    // Every record of `kind`, in plan order.
    std::vector<const op::AddDevice*> all(DeviceKind kind) const;

private:
    const std::vector<op::AddDevice>& devices_;
    std::string machine_;
};

} // namespace cvm
