#include <fmt/format.h>
#include <libfdt.h>

#include "libcvm/fdt/fdt_check.hpp"
#include "cvm/error.hpp"

namespace cvm {
namespace {

std::uint32_t be32(ByteSpan b, std::size_t off) {
    return std::uint32_t{b[off]} << 24 | std::uint32_t{b[off + 1]} << 16 | std::uint32_t{b[off + 2]} << 8 | b[off + 3];
}

} // namespace

void check_dtb(ByteSpan blob, const std::string& name) {
    constexpr std::size_t kHeader = 40;
    if (blob.size() < kHeader)
        throw_format_error(name, 0, "file size", "at least the 40-byte FDT header",
                           fmt::format("{} bytes", blob.size()));
    if (be32(blob, 0) != FDT_MAGIC)
        throw_format_error(name, 0, "FDT magic", "0xd00dfeed", fmt::format("{:#010x}", be32(blob, 0)));
    const std::uint32_t total = be32(blob, 4);
    if (total > blob.size() || total < kHeader)
        throw_format_error(name, 4, "FDT totalsize", fmt::format("40 to {} bytes (the file size)", blob.size()),
                           fmt::format("{}", total));
    // libfdt 1.6 accepts older header versions but fdt_check_full then
    // dereferences null on some of them (found by fuzzing): only the versions
    // every current tool writes are taken.
    const std::uint32_t version = be32(blob, 20);
    if (version < 16 || version > 17)
        throw_format_error(name, 20, "FDT version", "16 or 17", fmt::format("{}", version));
    if (int rc = fdt_check_header(blob.data()); rc != 0)
        throw_format_error(name, 0, "FDT header", "a version 16/17 header with blocks inside totalsize",
                           fdt_strerror(rc));
    // Walk the structure block tag by tag, with bounds of this walk's own:
    // libfdt 1.6's fdt_next_tag adds a property's 32-bit length as a signed
    // int, so a length near 2^32 moves the offset backwards and both this
    // walk and fdt_check_full would loop forever (found by fuzzing). Every
    // tag must end past where it starts and inside the structure block.
    const void* fdt = blob.data();
    const std::uint32_t struct_off = be32(blob, 8);
    // size_dt_struct exists from version 17; a version 16 block runs to the
    // end of the blob at most (fdt_check_header has checked struct_off).
    const std::uint64_t struct_size = version >= 17 ? be32(blob, 36) : total - std::uint64_t{struct_off};
    int offset = 0;
    for (;;) {
        const std::uint64_t at = struct_off + static_cast<std::uint64_t>(offset);
        if (at + 4 > total || static_cast<std::uint64_t>(offset) + 4 > struct_size)
            throw_format_error(name, at, "FDT structure tag", "a tag inside the structure block", "the block's end");
        if (be32(blob, at) == FDT_PROP && static_cast<std::uint64_t>(offset) + 12 > struct_size)
            throw_format_error(name, at, "FDT property", "a 12-byte property header inside the structure block",
                               "the block's end");
        if (be32(blob, at) == FDT_PROP) {
            const std::uint32_t len = be32(blob, at + 4);
            if (len > struct_size - static_cast<std::uint64_t>(offset) - 12)
                throw_format_error(name, at + 4, "FDT property length",
                                   fmt::format("at most the {} bytes left in the structure block",
                                               struct_size - static_cast<std::uint64_t>(offset) - 12),
                                   fmt::format("{}", len));
        }
        int next = 0;
        std::uint32_t tag = fdt_next_tag(fdt, offset, &next);
        if (next < 0)
            throw_format_error(name, at, "FDT structure tag", "a well-formed tag inside the structure block",
                               fdt_strerror(next));
        if (tag == FDT_END) break;
        if (next <= offset)
            throw_format_error(name, at, "FDT structure tag", "a tag that ends after it starts",
                               fmt::format("the next tag at structure offset {}", next));
        offset = next;
    }
    if (int rc = fdt_check_full(fdt, total); rc != 0)
        throw_format_error(name, struct_off, "FDT structure block",
                           "balanced nodes, properties with names in the strings block", fdt_strerror(rc));
}

void check_dtb_used_as_is(ByteSpan blob, const std::string& name, const std::string& cmdline, unsigned vcpus) {
    check_dtb(blob, name);
    if (!cmdline.empty())
        throw Error("the guest reads its command line from this DTB's /chosen/bootargs: a command line given beside "
                    "a DTB would be ignored; put it in the DTB", 0, name);
    const void* fdt = blob.data();
    const int cpus = fdt_path_offset(fdt, "/cpus");
    if (cpus < 0) throw_format_error(name, 0, "/cpus node", "the node listing the guest's CPUs", "none");
    unsigned count = 0;
    for (int node = fdt_first_subnode(fdt, cpus); node >= 0; node = fdt_next_subnode(fdt, node)) {
        const char* type = static_cast<const char*>(fdt_getprop(fdt, node, "device_type", nullptr));
        if (type && std::string_view(type) == "cpu") ++count;
    }
    if (count != vcpus)
        throw_format_error(name, static_cast<std::uint64_t>(be32(blob, 8)) + static_cast<std::uint64_t>(cpus),
                           "CPU nodes under /cpus", fmt::format("{}, the VM's vCPU count", vcpus),
                           fmt::format("{}", count));
}

} // namespace cvm
