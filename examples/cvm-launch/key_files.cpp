#include "key_files.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "cvm/error.hpp"

namespace cvmlaunch {

PrivatePem::PrivatePem(const std::string& path) {
    cvm::InputFile file(path, kMaxKeyFile);
    if (file.mode() & 022)
        throw cvm::Error(fmt::format("the key file is writable by group or others (mode {:04o}): refusing a key "
                                     "that others could replace; chmod 600 it", file.mode()), 0, path);
    if (file.mode() & 044)
        fmt::print(stderr, "cvm-launch: warning: the key file {} is readable by group or others (mode {:04o}); "
                           "keep the private key private (chmod 600)\n", path, file.mode());
    text.resize(file.size());
    file.read_all({reinterpret_cast<std::uint8_t*>(text.data()), text.size()});
}

PrivatePem::~PrivatePem() { OPENSSL_cleanse(text.data(), text.size()); }

std::string read_public_pem(const std::string& path) {
    const auto bytes = cvm::read_input_file(path, kMaxKeyFile);
    return std::string(bytes.begin(), bytes.end());
}

void write_all(const std::string& path, cvm::ByteSpan bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw cvm::Error("cannot write", errno, path);
}

void write_private(const std::string& path, cvm::ByteSpan bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw cvm::Error("cannot create", errno, path);
    // An existing file keeps its mode through O_CREAT: make it private first.
    if (::fchmod(fd, 0600) != 0) {
        int err = errno;
        ::close(fd);
        throw cvm::Error("cannot make the key file private", err, path);
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            throw cvm::Error("cannot write", err, path);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) throw cvm::Error("cannot write", errno, path);
}

} // namespace cvmlaunch
