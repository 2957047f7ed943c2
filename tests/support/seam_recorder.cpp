#include "seam_recorder.hpp"

#include <cstring>
#include <dirent.h>
#include <linux/kvm.h>

#include <fmt/format.h>

namespace cvmtest {

std::string request_name(unsigned long request) {
    struct Known {
        unsigned long nr;  // the _IOC_NR within KVMIO; direction and size vary by header
        const char* name;
    };
    static const Known known[] = {
        {0x00, "KVM_GET_API_VERSION"}, {0x01, "KVM_CREATE_VM"}, {0x03, "KVM_CHECK_EXTENSION"},
        {0x04, "KVM_GET_VCPU_MMAP_SIZE"}, {0x05, "KVM_GET_SUPPORTED_CPUID"}, {0x41, "KVM_CREATE_VCPU"},
        {0x46, "KVM_SET_USER_MEMORY_REGION"}, {0x47, "KVM_SET_TSS_ADDR"}, {0x48, "KVM_SET_IDENTITY_MAP_ADDR"},
        {0x60, "KVM_CREATE_IRQCHIP"}, {0x61, "KVM_IRQ_LINE"}, {0x77, "KVM_CREATE_PIT2"},
        {0x80, "KVM_RUN"}, {0x81, "KVM_GET_REGS"}, {0x82, "KVM_SET_REGS"}, {0x83, "KVM_GET_SREGS"},
        {0x84, "KVM_SET_SREGS"}, {0x8e, "KVM_GET_LAPIC"}, {0x8f, "KVM_SET_LAPIC"}, {0x90, "KVM_SET_CPUID2"},
    };
    if (_IOC_TYPE(request) == KVMIO)
        for (const auto& k : known)
            if (_IOC_NR(request) == k.nr) return k.name;
    return fmt::format("{:#x}", request);
}

bool RecordingSeam::should_fail() {
    bool fail = fail_index_ && *fail_index_ == index_;
    ++index_;
    return fail;
}

std::string RecordingSeam::role(int fd) const {
    for (const auto& [f, r] : roles_)
        if (f == fd) return r;
    return fmt::format("fd{}", fd);
}

void RecordingSeam::name_result(unsigned long request, int result, void* arg) {
    if (result < 0 || _IOC_TYPE(request) != KVMIO) return;
    if (_IOC_NR(request) == 0x01) roles_.emplace_back(result, "vm");
    // KVM_CREATE_VCPU's argument is the vCPU id, passed by value.
    if (_IOC_NR(request) == 0x41) roles_.emplace_back(result, fmt::format("vcpu{}", reinterpret_cast<std::uintptr_t>(arg)));
}

int RecordingSeam::open(const char* path, int flags) {
    std::unique_lock lock(mutex_);
    RecordedCall call{"open", path, 0, "open", {}, 0};
    if (should_fail()) {
        call.result = -fail_errno_;
        calls_.push_back(call);
        return call.result;
    }
    lock.unlock();
    int fd = inner_.open(path, flags);
    lock.lock();
    call.result = fd;
    calls_.push_back(call);
    if (fd >= 0) roles_.emplace_back(fd, "kvm");
    return fd;
}

int RecordingSeam::ioctl(int fd, unsigned long request, void* arg) {
    std::unique_lock lock(mutex_);
    bool is_run = _IOC_TYPE(request) == KVMIO && _IOC_NR(request) == 0x80;
    if (is_run) running_ = true;
    bool record = record_runs_ || !running_;
    RecordedCall call{"ioctl", role(fd), request, request_name(request), {}, 0};
    std::size_t size = _IOC_SIZE(request);
    if (_IOC_DIR(request) != _IOC_NONE && arg && size) {
        auto* bytes = static_cast<const std::uint8_t*>(arg);
        call.arg.assign(bytes, bytes + size);
    } else {
        auto value = reinterpret_cast<std::uintptr_t>(arg);
        for (int i = 0; i < 8; ++i) call.arg.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
    if (should_fail()) {
        call.result = -fail_errno_;
        if (record) calls_.push_back(call);
        return call.result;
    }
    lock.unlock();
    int rc = inner_.ioctl(fd, request, arg);
    lock.lock();
    call.result = rc;
    if (record) calls_.push_back(call);
    name_result(request, rc, arg);
    return rc;
}

int RecordingSeam::mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) {
    std::unique_lock lock(mutex_);
    RecordedCall call{"mmap", role(fd), 0, "mmap", {}, 0};
    if (should_fail()) {
        call.result = -fail_errno_;
        calls_.push_back(call);
        return call.result;
    }
    lock.unlock();
    int rc = inner_.mmap(out, length, prot, flags, fd, offset);
    lock.lock();
    call.result = rc;
    if (record_runs_ || !running_) calls_.push_back(call);
    return rc;
}

std::vector<RecordedCall> RecordingSeam::calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

std::vector<std::string> RecordingSeam::summary() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> lines;
    for (const auto& c : calls_) lines.push_back(c.kind == "ioctl" ? c.fd_role + " " + c.name : c.kind + " " + c.fd_role);
    return lines;
}

std::size_t RecordingSeam::count() const {
    std::lock_guard lock(mutex_);
    return index_;
}

std::size_t open_fd_count() {
    std::size_t count = 0;
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return 0;
    while (dirent* entry = readdir(dir))
        if (entry->d_name[0] != '.') ++count;
    closedir(dir);
    return count - 1;  // the directory stream's own fd
}

} // namespace cvmtest
