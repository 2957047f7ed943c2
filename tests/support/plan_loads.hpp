// A plan's LoadData operations by label, for tests that inspect placement.
// The pointers point into `plan`, which must outlive the map.
#pragma once

#include <map>
#include <string>
#include <variant>

#include "cvm/plan.hpp"

namespace cvmtest {

inline std::map<std::string, const cvm::op::LoadData*> loads(const cvm::LaunchPlan& plan) {
    std::map<std::string, const cvm::op::LoadData*> by_label;
    for (const auto& o : plan.operations())
        if (auto* l = std::get_if<cvm::op::LoadData>(&o)) by_label[l->label] = l;
    return by_label;
}

} // namespace cvmtest
