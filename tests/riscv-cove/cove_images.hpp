// Inputs for the riscv-cove tests: a RISC-V Image with a valid header and
// patterned bytes, and an independent SHA-384 written against OpenSSL's EVP
// interface directly, so expected values never come from libcvm's digests.
#pragma once

#include <cstdint>
#include <cstring>
#include <openssl/evp.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace covetest {

inline void put64(std::vector<std::uint8_t>& b, std::size_t at, std::uint64_t v) { std::memcpy(b.data() + at, &v, 8); }
inline void put32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

// Header fields per Documentation/arch/riscv/boot-image-header.rst.
inline std::vector<std::uint8_t> riscv_image(std::size_t size = 3 * 4096 + 123, std::uint64_t image_size = 0x300000) {
    std::vector<std::uint8_t> b(size, 0);
    for (std::size_t i = 64; i < size; ++i) b[i] = static_cast<std::uint8_t>(i * 13 + (i >> 12));
    put32(b, 0, 0x0000006f);      // code0: a jump
    put64(b, 8, 0x200000);        // text_offset
    put64(b, 16, image_size);     // image_size
    put64(b, 24, 0);              // flags: little endian
    put32(b, 32, 2);              // version 0.2
    std::memcpy(b.data() + 48, "RISCV\0\0\0", 8);
    put32(b, 56, 0x05435352);     // "RSC\x05"
    return b;
}

inline std::vector<std::uint8_t> pattern(std::size_t size, unsigned seed) {
    std::vector<std::uint8_t> b(size);
    for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>((i * 31 + seed * 7 + (i >> 9)) & 0xff);
    return b;
}

class Sha384 {
public:
    Sha384() : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha384(), nullptr) != 1) throw std::runtime_error("EVP init");
    }
    ~Sha384() { EVP_MD_CTX_free(ctx_); }
    Sha384(const Sha384&) = delete;
    Sha384& operator=(const Sha384&) = delete;
    Sha384& add(const void* p, std::size_t n) {
        EVP_DigestUpdate(ctx_, p, n);
        return *this;
    }
    Sha384& add(const std::vector<std::uint8_t>& v) { return add(v.data(), v.size()); }
    Sha384& le64(std::uint64_t v) {
        std::uint8_t b[8];
        for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
        return add(b, 8);
    }
    std::vector<std::uint8_t> done() {
        std::vector<std::uint8_t> out(48);
        unsigned n = 0;
        EVP_DigestFinal_ex(ctx_, out.data(), &n);
        return out;
    }

private:
    EVP_MD_CTX* ctx_;
};

inline std::string hex(const std::vector<std::uint8_t>& b) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (auto c : b) {
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}

// The documented page rule, page by page: R = SHA-384(R || le64(gpa) || page),
// the last page completed with zero bytes.
inline void extend_pages(std::vector<std::uint8_t>& reg, std::uint64_t gpa, const std::uint8_t* data, std::size_t size) {
    for (std::size_t off = 0; off < size; off += 4096) {
        std::vector<std::uint8_t> page(4096, 0);
        std::memcpy(page.data(), data + off, std::min<std::size_t>(4096, size - off));
        Sha384 h;
        reg = h.add(reg).le64(gpa + off).add(page).done();
    }
}

} // namespace covetest
