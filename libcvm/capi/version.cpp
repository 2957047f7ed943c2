// The version query and the list of compiled-in technologies.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cvm/backend.hpp"
#include "cvm/cvm.h"
#include "cvm/error.hpp"
#include "libcvm/capi/library_version.h"
#include "libcvm/capi/status.hpp"

namespace {

struct Technology {
    std::string name;
    std::string summary;
};

// NUL-terminated copies of the backends' names, made once: a string_view
// need not end in a NUL.
const std::vector<Technology>& technologies() {
    static const std::vector<Technology> table = [] {
        std::vector<Technology> list;
        for (const cvm::Backend* backend : cvm::all_backends())
            list.push_back({std::string(backend->name()), std::string(backend->summary())});
        return list;
    }();
    return table;
}

} // namespace

extern "C" {

const char* cvm_version(int* major, int* minor, int* patch) {
    int numbers[3] = {0, 0, 0};
    std::sscanf(CVM_LIBRARY_VERSION, "%d.%d.%d", &numbers[0], &numbers[1], &numbers[2]);
    if (major) *major = numbers[0];
    if (minor) *minor = numbers[1];
    if (patch) *patch = numbers[2];
    return CVM_LIBRARY_VERSION;
}

size_t cvm_technology_count(void) {
    try {
        return technologies().size();
    } catch (...) {
        return 0;
    }
}

const char* cvm_technology_name(size_t index) {
    try {
        return index < technologies().size() ? technologies()[index].name.c_str() : nullptr;
    } catch (...) {
        return nullptr;
    }
}

const char* cvm_technology_summary(size_t index) {
    try {
        return index < technologies().size() ? technologies()[index].summary.c_str() : nullptr;
    } catch (...) {
        return nullptr;
    }
}

cvm_status cvm_technology_options_json(size_t index, char** out) {
    CVM_REQUIRE(out);
    return cvm::capi::guarded([&] {
        const auto backends = cvm::all_backends();
        if (index >= backends.size())
            throw cvm::Error("technology index " + std::to_string(index) + " is out of range (" +
                             std::to_string(backends.size()) + " technologies)");
        nlohmann::ordered_json options = nlohmann::ordered_json::array();
        for (const auto& o : backends[index]->options())
            options.push_back({{"name", o.name}, {"help", o.help}, {"default", o.default_value},
                               {"choices", o.choices},
                               {"kind", o.kind == cvm::OptionKind::number ? "number" : "text"}});
        *out = cvm::capi::malloc_copy(options.dump(2));
    });
}

} // extern "C"
