#include "cvm/bytes.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvm/error.hpp"

namespace cvm {

class Payload::Storage {
public:
    Storage(std::string name, std::vector<std::uint8_t> bytes)
        : name_(std::move(name)), owned_(std::move(bytes)), view_(owned_) {}
    Storage(std::string path, void* map, std::size_t size)
        : name_(std::move(path)), map_(map), map_size_(size),
          view_(static_cast<const std::uint8_t*>(map), size), file_(true) {}
    ~Storage() {
        if (map_) ::munmap(map_, map_size_);
    }
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    const std::string& name() const { return name_; }
    ByteSpan view() const { return view_; }
    bool file() const { return file_; }

private:
    std::string name_;
    std::vector<std::uint8_t> owned_;
    void* map_ = nullptr;
    std::size_t map_size_ = 0;
    ByteSpan view_;
    bool file_ = false;
};

Payload::Payload() : Payload(Payload::from_bytes({}, "empty")) {}

Payload::Payload(std::shared_ptr<const Storage> storage)
    : storage_(std::move(storage)), view_(storage_->view()) {}

Payload Payload::map_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error("cannot open", errno, path);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        throw Error("cannot stat", err, path);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error("not a regular file", 0, path);
    }
    auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        return Payload(std::make_shared<const Storage>(path, std::vector<std::uint8_t>{}));
    }
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    ::close(fd);  // the mapping keeps the file alive
    if (map == MAP_FAILED) throw Error("cannot map", err, path);
    return Payload(std::make_shared<const Storage>(path, map, size));
}

Payload Payload::from_bytes(std::vector<std::uint8_t> bytes, std::string name) {
    return Payload(std::make_shared<const Storage>(std::move(name), std::move(bytes)));
}

ByteSpan Payload::bytes() const noexcept { return view_; }

namespace {

// Whole pages inside [data, data+size), or an empty range.
std::pair<void*, std::size_t> inner_pages(const std::uint8_t* data, std::size_t size) {
    const std::uintptr_t page = 4096;
    auto begin = reinterpret_cast<std::uintptr_t>(data);
    auto end = begin + size;
    begin = (begin + page - 1) & ~(page - 1);
    end &= ~(page - 1);
    if (end <= begin) return {nullptr, 0};
    return {reinterpret_cast<void*>(begin), end - begin};
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels refuse it, which is harmless
#endif

} // namespace

void Payload::release(std::size_t offset, std::size_t size) const noexcept {
    if (!storage_->file() || offset >= view_.size()) return;
    auto [address, length] = inner_pages(view_.data() + offset, std::min(size, view_.size() - offset));
    if (length) ::madvise(address, length, MADV_DONTNEED);
}

void Payload::prefetch(std::size_t offset, std::size_t size) const noexcept {
    if (!storage_->file() || offset >= view_.size()) return;
    // Widen to the enclosing pages: a partial first page is worth mapping too.
    auto first = reinterpret_cast<std::uintptr_t>(view_.data() + offset) & ~std::uintptr_t{4095};
    auto last = reinterpret_cast<std::uintptr_t>(view_.data() + offset + std::min(size, view_.size() - offset));
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_READ);
}

Payload Payload::slice(std::size_t offset, std::size_t size) const {
    if (offset > view_.size() || size > view_.size() - offset)
        throw Error("slice [" + std::to_string(offset) + ", +" + std::to_string(size) + ") is outside " +
                    std::to_string(view_.size()) + " bytes", 0, name());
    Payload part(*this);
    part.view_ = view_.subspan(offset, size);
    return part;
}
const std::string& Payload::name() const noexcept { return storage_->name(); }
bool Payload::is_file() const noexcept { return storage_->file(); }

} // namespace cvm
