#include "cvm/bytes.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvm/error.hpp"

namespace cvm {

namespace {
int copy_to_memfd(const InputFile& file);
// Files up to this size are copied into memory libcvm owns with one read: a
// memory file's creation, copy and mapping cost more than the whole
// prediction of a firmware, and releasing pages of a few MiB gains nothing.
constexpr std::size_t kOwnedCopyLimit = 8u << 20;
// Copies from this size on go to populated anonymous memory, smaller ones
// to a vector.
constexpr std::size_t kPopulatedCopyMin = 256u << 10;
}

// One of: bytes libcvm owns; a sealed memory file's mapping; or an open
// file not copied yet (open_file), which becomes one of the other two the
// first time its whole view is asked for.
class Payload::Storage {
public:
    Storage(std::string name, std::vector<std::uint8_t> bytes, bool file = false)
        : name_(std::move(name)), owned_(std::move(bytes)), view_(owned_), file_(file) {
        copied_.store(true);
    }
    Storage(std::string path, void* map, std::size_t size)
        : name_(std::move(path)), map_(map), map_size_(size),
          view_(static_cast<const std::uint8_t*>(map), size), file_(true) {
        copied_.store(true);
    }
    explicit Storage(std::unique_ptr<InputFile> file)
        : name_(file->path()), source_(std::move(file)), file_(true) {}
    ~Storage() {
        if (map_) ::munmap(map_, map_size_);
        if (owned_map_) ::munmap(owned_map_, owned_map_size_);
    }
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    const std::string& name() const { return name_; }
    ByteSpan view() const {
        if (source_) std::call_once(once_, [this] { copy(); });
        return view_;
    }
    bool file() const { return file_; }
    // Only a mapping may be released: madvise on owned bytes would zero them.
    bool mapped() const { return copied_.load(std::memory_order_acquire) && map_ != nullptr; }
    bool streams() const { return !copied_.load(std::memory_order_acquire); }

    void read(std::size_t offset, std::span<std::uint8_t> out) const {
        if (!streams()) {
            auto v = view();
            std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
            return;
        }
        std::size_t done = 0;
        while (done < out.size()) {
            ssize_t n = ::pread(source_->fd(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw Error("cannot read", errno, name_, offset + done);
            if (n == 0) throw Error("the file shrank while it was read", 0, name_, offset + done);
            done += static_cast<std::size_t>(n);
        }
    }

private:
    // The sealed copy map_file makes, made on first need (const: a lazy
    // cache of the same bytes).
    void copy() const {
        const auto size = static_cast<std::size_t>(source_->size());
        int memfd = size <= kOwnedCopyLimit ? -1 : copy_to_memfd(*source_);
        if (memfd < 0 && size >= kPopulatedCopyMin) {
            copy_to_populated_memory(size);
        } else if (memfd < 0) {
            owned_.resize(size);
            source_->read_all(owned_);
            view_ = ByteSpan(owned_);
        } else {
            void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, memfd, 0);
            int err = errno;
            ::close(memfd);
            if (map == MAP_FAILED) throw Error("cannot map", err, name_);
            map_ = map;
            map_size_ = size;
            view_ = ByteSpan(static_cast<const std::uint8_t*>(map), size);
        }
        copied_.store(true, std::memory_order_release);
    }

    // A firmware-sized copy goes to anonymous memory populated with one call
    // (a huge page where the kernel gives one) rather than a vector: zeroing
    // a vector and then faulting in its pages one by one under the read
    // cost more than the read itself. Read-only once filled.
    void copy_to_populated_memory(std::size_t size) const {
        const std::size_t length = (size + 4095) & ~std::size_t{4095};
        void* map = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED) throw Error("cannot allocate memory for a copy of", errno, name_);
        struct Unmap {
            void* address;
            std::size_t length;
            ~Unmap() {
                if (address) ::munmap(address, length);
            }
        } unmap_on_failure{map, length};  // a failed read may be retried: nothing is kept
        ::madvise(map, length, MADV_HUGEPAGE);        // best effort: fewer pages to populate
        ::madvise(map, length, MADV_POPULATE_WRITE);  // best effort: otherwise faulted in by the read
        source_->read_all(std::span<std::uint8_t>(static_cast<std::uint8_t*>(map), size));
        ::mprotect(map, length, PROT_READ);
        unmap_on_failure.address = nullptr;
        owned_map_ = map;
        owned_map_size_ = length;
        view_ = ByteSpan(static_cast<const std::uint8_t*>(map), size);
    }

public:
    struct Memo {
        std::size_t offset, size;
        unsigned kind;
        std::vector<std::uint8_t> value;
    };
    std::vector<std::uint8_t> remembered(std::size_t offset, std::size_t size, unsigned kind) const {
        std::lock_guard lock(memo_mutex_);
        for (const auto& m : memo_)
            if (m.offset == offset && m.size == size && m.kind == kind) return m.value;
        return {};
    }
    void remember(std::size_t offset, std::size_t size, unsigned kind, ByteSpan value) const {
        std::lock_guard lock(memo_mutex_);
        for (const auto& m : memo_)
            if (m.offset == offset && m.size == size && m.kind == kind) return;
        memo_.push_back({offset, size, kind, std::vector<std::uint8_t>(value.begin(), value.end())});
    }

private:
    mutable std::mutex memo_mutex_;
    mutable std::vector<Memo> memo_;  // digests of views of these bytes

    std::string name_;
    std::unique_ptr<InputFile> source_;  // open_file's file; read until copied
    mutable std::once_flag once_;
    mutable std::atomic<bool> copied_{false};
    mutable std::vector<std::uint8_t> owned_;
    mutable void* map_ = nullptr;  // a sealed memory file's mapping: its pages may be released
    mutable std::size_t map_size_ = 0;
    mutable void* owned_map_ = nullptr;  // anonymous memory holding the copy: never released
    mutable std::size_t owned_map_size_ = 0;
    mutable ByteSpan view_;
    bool file_ = false;
};

Payload::Payload() : Payload(Payload::from_bytes({}, "empty")) {}

Payload::Payload(std::shared_ptr<const Storage> storage) : storage_(std::move(storage)) {
    size_ = storage_->streams() ? 0 : storage_->view().size();
}

InputFile::InputFile(const std::string& path, std::uint64_t max_size) : path_(path) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
    // writer before fstat could tell that it is not a file.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd_ < 0) throw Error("cannot open", errno, path);
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        int err = errno;
        ::close(fd_);
        throw Error("cannot stat", err, path);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        throw Error(S_ISDIR(st.st_mode) ? "a directory, expected a regular file" : "not a regular file", 0, path);
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_size) {
        ::close(fd_);
        throw Error("file of " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                        std::to_string(max_size), 0, path);
    }
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int err = errno;
        ::close(fd_);
        throw Error("cannot make the file blocking", err, path);
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
    mode_ = static_cast<unsigned>(st.st_mode & 07777);
}

InputFile::~InputFile() {
    if (fd_ >= 0) ::close(fd_);
}

void InputFile::read_all(std::span<std::uint8_t> out) const {
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error("cannot read", errno, path_, done);
        if (n == 0) throw Error("the file shrank while it was read", 0, path_, done);
        done += static_cast<std::size_t>(n);
    }
}

std::vector<std::uint8_t> read_input_file(const std::string& path, std::uint64_t max_size) {
    InputFile file(path, max_size);
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(file.size()));
    file.read_all(bytes);
    return bytes;
}

namespace {

// Copies the file into a sealed memfd: its pages belong to libcvm alone, so
// no other process can truncate them away under a reader, and the mapping
// can still drop them from the resident set (Payload::release).
int copy_to_memfd(const InputFile& file) {
    int memfd = ::memfd_create("cvm-payload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (memfd < 0) return -1;
    std::uint64_t done = 0;
    while (done < file.size()) {
        off_t offset = static_cast<off_t>(done);
        ssize_t n = ::sendfile(memfd, file.fd(), &offset, std::min<std::uint64_t>(file.size() - done, 1u << 30));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : 0;
            ::close(memfd);
            if (n == 0) throw Error("the file shrank while it was read", 0, file.path(), done);
            throw Error("cannot read", err, file.path(), done);
        }
        done += static_cast<std::uint64_t>(n);
    }
    ::fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    return memfd;
}

} // namespace

Payload Payload::map_file(const std::string& path) {
    InputFile file(path, kMaxPayloadSize);
    auto size = static_cast<std::size_t>(file.size());
    if (size == 0) return Payload(std::make_shared<const Storage>(path, std::vector<std::uint8_t>{}));
    int memfd = size <= kOwnedCopyLimit ? -1 : copy_to_memfd(file);
    if (memfd < 0) {
        // Small, or no memfd here (old kernel, sandbox): an owned copy is just as safe.
        std::vector<std::uint8_t> bytes(size);
        file.read_all(bytes);
        return Payload(std::make_shared<const Storage>(path, std::move(bytes), true));
    }
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, memfd, 0);
    int err = errno;
    ::close(memfd);  // the mapping keeps the memory file alive
    if (map == MAP_FAILED) throw Error("cannot map", err, path);
    return Payload(std::make_shared<const Storage>(path, map, size));
}

Payload Payload::open_file(const std::string& path) {
    auto file = std::make_unique<InputFile>(path, kMaxPayloadSize);
    const auto size = static_cast<std::size_t>(file->size());
    if (size == 0) return Payload(std::make_shared<const Storage>(path, std::vector<std::uint8_t>{}, true));
    Payload p(std::make_shared<const Storage>(std::move(file)));
    p.size_ = size;
    return p;
}

Payload Payload::from_bytes(std::vector<std::uint8_t> bytes, std::string name) {
    return Payload(std::make_shared<const Storage>(std::move(name), std::move(bytes)));
}

ByteSpan Payload::bytes() const { return storage_->view().subspan(offset_, size_); }

void Payload::read(std::size_t offset, std::span<std::uint8_t> out) const {
    if (offset > size_ || out.size() > size_ - offset)
        throw Error("read [" + std::to_string(offset) + ", +" + std::to_string(out.size()) + ") is outside " +
                    std::to_string(size_) + " bytes", 0, name());
    storage_->read(offset_ + offset, out);
}

bool Payload::streams() const noexcept { return storage_->streams(); }

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
    if (!storage_->mapped() || offset >= size_) return;
    const std::uint8_t* base = storage_->view().data() + offset_;
    auto [address, length] = inner_pages(base + offset, std::min(size, size_ - offset));
    if (length) ::madvise(address, length, MADV_DONTNEED);
}

void Payload::prefetch(std::size_t offset, std::size_t size) const noexcept {
    if (!storage_->mapped() || offset >= size_) return;
    const std::uint8_t* base = storage_->view().data() + offset_;
    // Widen to the enclosing pages: a partial first page is worth mapping too.
    auto first = reinterpret_cast<std::uintptr_t>(base + offset) & ~std::uintptr_t{4095};
    auto last = reinterpret_cast<std::uintptr_t>(base + offset + std::min(size, size_ - offset));
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_READ);
}

Payload Payload::slice(std::size_t offset, std::size_t size) const {
    if (offset > size_ || size > size_ - offset)
        throw Error("slice [" + std::to_string(offset) + ", +" + std::to_string(size) + ") is outside " +
                    std::to_string(size_) + " bytes", 0, name());
    Payload part(*this);
    part.offset_ = offset_ + offset;
    part.size_ = size;
    return part;
}
std::vector<std::uint8_t> Payload::remembered_digest(unsigned kind) const {
    return storage_->remembered(offset_, size_, kind);
}

void Payload::remember_digest(unsigned kind, ByteSpan digest) const {
    storage_->remember(offset_, size_, kind, digest);
}

const std::string& Payload::name() const noexcept { return storage_->name(); }
bool Payload::is_file() const noexcept { return storage_->file(); }

} // namespace cvm
