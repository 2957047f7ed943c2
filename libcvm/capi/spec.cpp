// cvm_spec: building a VmSpec from C.
#include <cstring>
#include <new>

#include <fmt/format.h>

#include "libcvm/capi/handles.hpp"
#include "libcvm/capi/status.hpp"

namespace {

using cvm::capi::fail;
using cvm::capi::guarded;

constexpr std::uint32_t kKnownImageFlags = CVM_IMAGE_UNMEASURED | CVM_IMAGE_AT_GPA;

// A C caller may pass any integer as a cvm_image_role; in C++ merely loading
// an out-of-range enum is undefined, so the value is read as an int first.
int role_value(const cvm_image_role& role) {
    int value;
    static_assert(sizeof value == sizeof role);
    std::memcpy(&value, &role, sizeof value);
    return value;
}

bool to_role(int role, cvm::ImageRole& out) {
    switch (role) {
    case CVM_IMAGE_KERNEL: out = cvm::ImageRole::kernel; return true;
    case CVM_IMAGE_INITRD: out = cvm::ImageRole::initrd; return true;
    case CVM_IMAGE_FIRMWARE: out = cvm::ImageRole::firmware; return true;
    case CVM_IMAGE_DTB: out = cvm::ImageRole::dtb; return true;
    case CVM_IMAGE_BLOB: out = cvm::ImageRole::blob; return true;
    }
    return false;
}

// Checks role and flags, then appends the image `make_payload` returns.
template <typename MakePayload>
cvm_status add_image(cvm_spec* spec, int role, std::uint32_t flags, std::uint64_t gpa,
                     MakePayload&& make_payload) {
    CVM_REQUIRE(spec);
    cvm::ImageRole image_role;
    if (!to_role(role, image_role))
        return fail(CVM_ERR_ARGUMENT, fmt::format("unknown image role {}", role).c_str());
    if (flags & ~kKnownImageFlags)
        return fail(CVM_ERR_ARGUMENT, fmt::format("unknown image flags {:#x}", flags & ~kKnownImageFlags).c_str());
    if ((flags & CVM_IMAGE_AT_GPA) && image_role != cvm::ImageRole::blob)
        return fail(CVM_ERR_ARGUMENT, "CVM_IMAGE_AT_GPA is for CVM_IMAGE_BLOB images only: the backend places the others");
    return guarded([&] {
        cvm::ImageSpec image;
        image.role = image_role;
        image.payload = make_payload(cvm::to_string(image_role));
        image.measured = !(flags & CVM_IMAGE_UNMEASURED);
        if (flags & CVM_IMAGE_AT_GPA) image.gpa = gpa;
        spec->spec.images.push_back(std::move(image));
    });
}

} // namespace

extern "C" {

cvm_status cvm_spec_new(const char* technology, cvm_spec** out) {
    CVM_REQUIRE(technology);
    CVM_REQUIRE(out);
    return guarded([&] {
        auto* spec = new cvm_spec;
        spec->spec.technology = technology;
        *out = spec;
    });
}

void cvm_spec_free(cvm_spec* spec) { delete spec; }

cvm_status cvm_spec_set_memory(cvm_spec* spec, uint64_t bytes) {
    CVM_REQUIRE(spec);
    spec->spec.memory.size = bytes;
    return CVM_OK;
}

cvm_status cvm_spec_set_vcpus(cvm_spec* spec, unsigned count) {
    CVM_REQUIRE(spec);
    if (count == 0) return fail(CVM_ERR_ARGUMENT, "a VM needs at least one vCPU");
    spec->spec.vcpus.count = count;
    return CVM_OK;
}

cvm_status cvm_spec_set_cmdline(cvm_spec* spec, const char* cmdline) {
    CVM_REQUIRE(spec);
    CVM_REQUIRE(cmdline);
    return guarded([&] { spec->spec.cmdline = cmdline; });
}

cvm_status cvm_spec_set_option(cvm_spec* spec, const char* key, const char* value) {
    CVM_REQUIRE(spec);
    CVM_REQUIRE(key);
    CVM_REQUIRE(value);
    return guarded([&] { spec->spec.options[key] = value; });
}

cvm_status cvm_spec_add_image_file(cvm_spec* spec, cvm_image_role role, const char* path, uint32_t flags,
                                   uint64_t gpa) {
    CVM_REQUIRE(path);
    return add_image(spec, role_value(role), flags, gpa, [&](std::string_view) { return cvm::Payload::map_file(path); });
}

cvm_status cvm_spec_add_image_buffer(cvm_spec* spec, cvm_image_role role, const void* data, size_t size,
                                     uint32_t flags, uint64_t gpa) {
    if (size != 0) CVM_REQUIRE(data);
    return add_image(spec, role_value(role), flags, gpa, [&](std::string_view role_name) {
        auto* bytes = static_cast<const std::uint8_t*>(data);
        return cvm::Payload::from_bytes(std::vector<std::uint8_t>(bytes, bytes + size),
                                        fmt::format("{} buffer", role_name));
    });
}

} // extern "C"
