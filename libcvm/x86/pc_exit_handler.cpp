#include "libcvm/x86/pc_exit_handler.hpp"

#include <cerrno>
#include <cstring>

#include "cvm/error.hpp"

namespace cvm::x86 {
namespace {

// include/uapi/linux/kvm.h.
constexpr std::uint64_t kMapGpaEncrypted = 1u << 4;  // KVM_MAP_GPA_RANGE_ENCRYPTED
constexpr std::uint64_t kMapGpaPageSizeMask = 0xf;   // KVM_MAP_GPA_RANGE_PAGE_SZ_{4K,2M,1G} = 0, 1, 2

} // namespace

std::optional<StopRequest> PcExitHandler::on_exit(const Vcpu& vcpu, exits::DeviceExit& exit) {
    if (auto* io = std::get_if<exits::PortIo>(&exit)) {
        bus_.handle(*io);
        return latch_.take();
    }
    if (auto* mmio = std::get_if<exits::Mmio>(&exit)) {
        if (!mmio->write) std::memset(mmio->data.data(), 0xff, mmio->data.size());
        return std::nullopt;
    }
    auto* call = std::get_if<exits::Hypercall>(&exit);
    if (call && private_memory_ && call->nr == kHcMapGpaRange) {
        const std::uint64_t gpa = call->args[0], pages = call->args[1], attributes = call->args[2];
        const bool to_private = (attributes & kMapGpaEncrypted) != 0;
        if (pages == 0 || pages > (~0ull >> 12) || (attributes & ~(kMapGpaEncrypted | kMapGpaPageSizeMask))) {
            *call->ret = static_cast<__u64>(-EINVAL);
            return std::nullopt;
        }
        try {
            private_memory_->convert(gpa, pages << 12, to_private);
            *call->ret = 0;
        } catch (const Error&) {
            *call->ret = static_cast<__u64>(-EINVAL);  // outside guest RAM: the guest's request fails
        }
        return std::nullopt;
    }
    return unhandled(vcpu, exit);
}

} // namespace cvm::x86
