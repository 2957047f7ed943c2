#include "backends/plain/x86_boot.hpp"

#include <algorithm>
#include <cstring>

#include "backends/plain/x86_layout.hpp"
#include "cvm/error.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::x86 {
namespace {

// struct boot_params offsets (arch/x86/include/uapi/asm/bootparam.h).
constexpr std::size_t kAcpiRsdpAddr = 0x070;
constexpr std::size_t kExtRamdiskImage = 0x0c0;
constexpr std::size_t kExtRamdiskSize = 0x0c4;
constexpr std::size_t kExtCmdLinePtr = 0x0c8;
constexpr std::size_t kE820Entries = 0x1e8;
constexpr std::size_t kSetupHeader = 0x1f1;
constexpr std::size_t kTypeOfLoader = 0x210;
constexpr std::size_t kLoadflags = 0x211;
constexpr std::size_t kRamdiskImage = 0x218;
constexpr std::size_t kRamdiskSize = 0x21c;
constexpr std::size_t kHeapEndPtr = 0x224;
constexpr std::size_t kCmdLinePtr = 0x228;
constexpr std::size_t kE820Table = 0x2d0;
constexpr std::size_t kE820Max = 128;

constexpr std::uint8_t kUndefinedLoader = 0xff;
constexpr std::uint8_t kCanUseHeap = 0x80;

} // namespace

RamLayout split_ram(std::uint64_t memory_size) {
    if (memory_size < (16ull << 20)) throw Error("the plain x86 guest needs at least 16 MiB of memory");
    if (memory_size % 4096) throw Error("guest memory must be a whole number of 4 KiB pages");
    RamLayout ram;
    ram.low_size = std::min(memory_size, kLowRamLimit);
    ram.high_size = memory_size - ram.low_size;
    return ram;
}

std::vector<E820Entry> e820_map(const RamLayout& ram) {
    std::vector<E820Entry> map{
        {0, kEbdaStart, 1},
        {kEbdaStart, kKernelAddress - kEbdaStart, 2},  // EBDA, VGA hole, BIOS area with ACPI
        {kKernelAddress, ram.low_size - kKernelAddress, 1},
    };
    if (ram.high_size) map.push_back({kHighRamBase, ram.high_size, 1});
    return map;
}

std::vector<std::uint8_t> build_boot_params(const BootParamsInput& input) {
    std::vector<std::uint8_t> zero_page(4096, 0);
    const auto& header = input.kernel->setup_header;
    std::memcpy(zero_page.data() + kSetupHeader, header.data(), std::min<std::size_t>(header.size(), 4096 - kSetupHeader));

    zero_page[kTypeOfLoader] = kUndefinedLoader;
    zero_page[kLoadflags] |= kCanUseHeap;
    le::write<std::uint16_t>(zero_page, kHeapEndPtr, 0xfe00);
    le::write<std::uint32_t>(zero_page, kCmdLinePtr, static_cast<std::uint32_t>(input.cmdline_address));
    le::write<std::uint32_t>(zero_page, kExtCmdLinePtr, static_cast<std::uint32_t>(input.cmdline_address >> 32));
    le::write<std::uint32_t>(zero_page, kRamdiskImage, static_cast<std::uint32_t>(input.initrd_address));
    le::write<std::uint32_t>(zero_page, kExtRamdiskImage, static_cast<std::uint32_t>(input.initrd_address >> 32));
    le::write<std::uint32_t>(zero_page, kRamdiskSize, static_cast<std::uint32_t>(input.initrd_size));
    le::write<std::uint32_t>(zero_page, kExtRamdiskSize, static_cast<std::uint32_t>(input.initrd_size >> 32));
    le::write<std::uint64_t>(zero_page, kAcpiRsdpAddr, input.acpi_rsdp_address);

    if (input.e820.size() > kE820Max) throw Error("too many e820 entries");
    zero_page[kE820Entries] = static_cast<std::uint8_t>(input.e820.size());
    for (std::size_t i = 0; i < input.e820.size(); ++i) {
        std::size_t at = kE820Table + 20 * i;
        le::write<std::uint64_t>(zero_page, at, input.e820[i].address);
        le::write<std::uint64_t>(zero_page, at + 8, input.e820[i].size);
        le::write<std::uint32_t>(zero_page, at + 16, input.e820[i].type);
    }
    return zero_page;
}

std::vector<std::uint8_t> build_identity_page_tables(std::uint64_t base) {
    constexpr std::uint64_t kPresentWritable = 0x3;
    constexpr std::uint64_t kLargePage = 0x80;
    std::vector<std::uint8_t> tables(kPageTablesSize, 0);
    const std::uint64_t pml4 = base, pdpt = base + 0x1000, pd = base + 0x2000;
    le::write<std::uint64_t>(tables, pml4 - base, pdpt | kPresentWritable);
    for (std::uint64_t gib = 0; gib < 4; ++gib) {
        le::write<std::uint64_t>(tables, pdpt - base + 8 * gib, (pd + 0x1000 * gib) | kPresentWritable);
        for (std::uint64_t i = 0; i < 512; ++i) {
            std::uint64_t address = (gib << 30) | (i << 21);
            le::write<std::uint64_t>(tables, pd - base + 0x1000 * gib + 8 * i, address | kPresentWritable | kLargePage);
        }
    }
    return tables;
}

std::vector<std::uint8_t> build_boot_gdt() {
    std::vector<std::uint8_t> gdt(32, 0);
    le::write<std::uint64_t>(gdt, kBootCs, 0x00af9b000000ffffull);  // 64-bit code, ring 0
    le::write<std::uint64_t>(gdt, kBootDs, 0x00cf93000000ffffull);  // flat data, ring 0
    return gdt;
}

} // namespace cvm::x86
