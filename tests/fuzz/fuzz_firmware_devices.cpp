// The PC's firmware devices driven by a hostile guest: a sequence of port
// accesses (device, offset, width, value) against fw_cfg (with DMA into a
// small RAM), the i440FX configuration ports and the PIIX4 PM block. The
// property: no crash, no sanitizer report, no access outside the RAM view.
#include <cstdint>
#include <vector>

#include "cvm/error.hpp"
#include "libcvm/devices/fw_cfg.hpp"
#include "libcvm/devices/i440fx_pci.hpp"
#include "libcvm/devices/piix4_pm.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> ram(0x2000, 0);
    constexpr std::uint64_t kBase = 0x1000;
    cvm::GuestRamView view = [&ram](std::uint64_t gpa, std::uint64_t n) -> std::span<std::uint8_t> {
        if (gpa < kBase || n > ram.size() || gpa - kBase > ram.size() - n) throw cvm::Error("outside RAM");
        return {ram.data() + (gpa - kBase), n};
    };
    cvm::FwCfg fw_cfg(true);
    fw_cfg.add_named("kernel", cvm::Payload::from_bytes(std::vector<std::uint8_t>(300, 7), "kernel"));
    fw_cfg.add_named("etc/e820", cvm::Payload::from_bytes(std::vector<std::uint8_t>(20, 1), "e820"));
    cvm::FwCfgIo io(fw_cfg, view);
    cvm::I440fxPciConfig pci;
    cvm::Piix4Pm pm([](cvm::ExitReason, std::string) {});
    // The guest's RAM starts as the input's tail: DMA descriptors come from it.
    if (size > 64) std::copy(data + 64, data + std::min<std::size_t>(size, 64 + ram.size()), ram.begin());
    for (std::size_t i = 0; i + 7 <= std::min<std::size_t>(size, 64); i += 7) {
        const std::uint8_t device = data[i] % 3, offset = data[i + 1], width = 1u << (data[i + 2] % 3);
        std::uint8_t bytes[4] = {data[i + 3], data[i + 4], data[i + 5], data[i + 6]};
        std::span<std::uint8_t> span(bytes, width);
        const bool write = data[i] & 0x80;
        cvm::BusDevice& target = device == 0 ? static_cast<cvm::BusDevice&>(io)
                                 : device == 1 ? static_cast<cvm::BusDevice&>(pci)
                                               : static_cast<cvm::BusDevice&>(pm);
        const std::uint64_t length = device == 0 ? cvm::FwCfgIo::kPorts
                                     : device == 1 ? cvm::I440fxPciConfig::kLength : cvm::Piix4Pm::kLength;
        const std::uint64_t at = offset % length;
        if (at + width > length) continue;  // the bus never splits an access across the end
        if (write) target.write(at, span);
        else target.read(at, span);
    }
    return 0;
}
