// A fake AMD SEV host for launch tests: /dev/sev and the KVM SEV commands
// on top of FakeKvm. It logs every call by fd role and name, with the SEV
// command decoded, and keeps what each command was given, so tests can
// check the exact sequence and arguments without the hardware.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <linux/kvm.h>

#include "fake_kvm.hpp"

namespace cvmtest {

class FakeSev final : public cvm::KvmSeam {
public:
    struct SevCall {
        std::uint32_t id;
        std::vector<std::uint8_t> args;  // the command struct as passed
        std::vector<std::uint8_t> data;  // for LAUNCH_UPDATE_DATA / SNP_LAUNCH_UPDATE: the source bytes
    };

    int open(const char* path, int flags) override;
    int ioctl(int fd, unsigned long request, void* arg) override;
    int mmap(void** out, std::size_t length, int prot, int flags, int fd, off_t offset) override;

    std::vector<std::string> log() const;
    std::vector<SevCall> sev_calls() const;
    // Arguments of the vCPU register ioctls, by "vcpuN NAME".
    std::map<std::string, std::vector<std::uint8_t>> vcpu_state() const;

    FakeKvm kvm;

private:
    std::string role(int fd) const;
    int sev_command(void* arg);

    mutable std::mutex mutex_;
    std::vector<std::string> log_;
    std::vector<SevCall> sev_calls_;
    std::map<std::string, std::vector<std::uint8_t>> vcpu_state_;
    std::map<int, std::string> roles_;
};

} // namespace cvmtest
