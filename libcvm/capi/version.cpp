// The version query and the list of compiled-in technologies.
#include <cstdio>
#include <string>
#include <vector>

#include "cvm/backend.hpp"
#include "cvm/cvm.h"
#include "libcvm/capi/library_version.h"

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

} // extern "C"
