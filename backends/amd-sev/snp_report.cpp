#include "cvm/snp_report.hpp"

#include <memory>

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cvm/error.hpp"
#include "cvm/image.hpp"
#include "libcvm/core/le.hpp"

namespace cvm::sev {
namespace {

// Field offsets of the report (SNP firmware ABI, Table "ATTESTATION_REPORT").
constexpr std::size_t kVersion = 0x00, kGuestSvn = 0x04, kPolicy = 0x08, kFamilyId = 0x10, kImageId = 0x20,
                      kVmpl = 0x30, kSignatureAlgo = 0x34, kCurrentTcb = 0x38, kPlatformInfo = 0x40, kFlags = 0x48,
                      kReportData = 0x50, kMeasurement = 0x90, kHostData = 0xc0, kIdKeyDigest = 0xe0,
                      kAuthorKeyDigest = 0x110, kReportId = 0x140, kReportedTcb = 0x180, kChipId = 0x1a0,
                      kSignature = 0x2a0;
constexpr std::uint32_t kEcdsaP384Sha384 = 1;
constexpr std::size_t kMaxCertificate = 64 * 1024;

template <std::size_t N>
void copy_field(std::array<std::uint8_t, N>& out, ByteSpan bytes, std::size_t at) {
    std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.begin() + static_cast<std::ptrdiff_t>(at + N),
              out.begin());
}

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr read_certificate(const std::string& path, const char* role) {
    if (path.empty()) throw Error(fmt::format("the {} certificate is missing", role));
    const auto bytes = read_input_file(path, kMaxCertificate);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())),
                                                  BIO_free);
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) {
        const unsigned char* p = bytes.data();
        cert = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()));
    }
    if (!cert) throw Error(fmt::format("not an X.509 certificate (PEM or DER) for the {}", role), 0, path);
    return X509Ptr(cert);
}

// `subject` carries a signature by `issuer`'s key, and names it as issuer.
void check_signed_by(X509* subject, X509* issuer, const char* subject_role, const char* issuer_role,
                     const std::string& path) {
    if (X509_check_issued(issuer, subject) != X509_V_OK)
        throw Error(fmt::format("the {} certificate does not name the {} as its issuer", subject_role, issuer_role), 0,
                    path);
    if (X509_verify(subject, X509_get0_pubkey(issuer)) != 1)
        throw Error(fmt::format("the {} certificate's signature does not verify with the {} key", subject_role,
                                issuer_role), 0, path);
}

} // namespace

SnpReport parse_snp_report(ByteSpan bytes, const std::string& name) {
    if (bytes.size() != kSnpReportSize)
        throw_format_error(name, 0, "report size", fmt::format("{} bytes (ATTESTATION_REPORT)", kSnpReportSize),
                           fmt::format("{} bytes", bytes.size()));
    SnpReport r;
    r.version = le::read<std::uint32_t>(bytes, kVersion);
    if (r.version < 2)
        throw_format_error(name, kVersion, "VERSION", "2 or later (SEV-SNP)", fmt::format("{}", r.version));
    r.guest_svn = le::read<std::uint32_t>(bytes, kGuestSvn);
    r.policy = le::read<std::uint64_t>(bytes, kPolicy);
    copy_field(r.family_id, bytes, kFamilyId);
    copy_field(r.image_id, bytes, kImageId);
    r.vmpl = le::read<std::uint32_t>(bytes, kVmpl);
    r.signature_algo = le::read<std::uint32_t>(bytes, kSignatureAlgo);
    if (r.signature_algo != kEcdsaP384Sha384)
        throw_format_error(name, kSignatureAlgo, "SIGNATURE_ALGO", "1 (ECDSA P-384 with SHA-384)",
                           fmt::format("{}", r.signature_algo));
    r.current_tcb = le::read<std::uint64_t>(bytes, kCurrentTcb);
    r.platform_info = le::read<std::uint64_t>(bytes, kPlatformInfo);
    r.flags = le::read<std::uint32_t>(bytes, kFlags);
    copy_field(r.report_data, bytes, kReportData);
    copy_field(r.measurement, bytes, kMeasurement);
    copy_field(r.host_data, bytes, kHostData);
    copy_field(r.id_key_digest, bytes, kIdKeyDigest);
    copy_field(r.author_key_digest, bytes, kAuthorKeyDigest);
    copy_field(r.report_id, bytes, kReportId);
    r.reported_tcb = le::read<std::uint64_t>(bytes, kReportedTcb);
    copy_field(r.chip_id, bytes, kChipId);
    copy_field(r.signature_r, bytes, kSignature);
    copy_field(r.signature_s, bytes, kSignature + 72);
    r.signed_bytes.assign(bytes.begin(), bytes.begin() + kSignature);
    return r;
}

std::vector<std::string> verify_snp_report(const SnpReport& report, const SnpCertChain& chain) {
    std::vector<std::string> steps;
    // SIGNING_KEY, bits 2-4 of the flags: 0 the VCEK; a VLEK-signed report
    // needs another chain, which this check does not take.
    if (((report.flags >> 2) & 7) != 0)
        throw Error(fmt::format("the report is signed with key {} (SIGNING_KEY), not the VCEK", (report.flags >> 2) & 7));
    const X509Ptr ark = read_certificate(chain.ark, "ARK");
    const X509Ptr ask = read_certificate(chain.ask, "ASK");
    const X509Ptr vcek = read_certificate(chain.vcek, "VCEK");
    check_signed_by(ark.get(), ark.get(), "ARK", "ARK (self-signed)", chain.ark);
    steps.push_back("the ARK is self-signed (the root the caller trusts)");
    check_signed_by(ask.get(), ark.get(), "ASK", "ARK", chain.ask);
    steps.push_back("the ASK is signed by the ARK");
    check_signed_by(vcek.get(), ask.get(), "VCEK", "ASK", chain.vcek);
    steps.push_back("the VCEK is signed by the ASK");

    EVP_PKEY* key = X509_get0_pubkey(vcek.get());
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        throw Error("the VCEK's key is not an elliptic-curve key", 0, chain.vcek);
    char curve[64] = {};
    if (!EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, nullptr) || std::string(curve) != "secp384r1")
        throw Error(fmt::format("the VCEK's curve is {}, not P-384", curve[0] ? curve : "unknown"), 0, chain.vcek);
    // The report holds r and s little-endian, 72 bytes each; OpenSSL takes
    // the DER ECDSA-Sig-Value.
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
    BIGNUM* r = BN_lebin2bn(report.signature_r.data(), static_cast<int>(report.signature_r.size()), nullptr);
    BIGNUM* s = BN_lebin2bn(report.signature_s.data(), static_cast<int>(report.signature_s.size()), nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        throw Error("cannot hold the report's signature (out of memory)");
    }
    unsigned char* der = nullptr;
    const int der_size = i2d_ECDSA_SIG(sig.get(), &der);
    if (der_size <= 0) throw Error("cannot encode the report's signature");
    std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(der, [](unsigned char* p) { OPENSSL_free(p); });
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) != 1)
        throw Error("cannot set up the report's signature check");
    if (EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_size), report.signed_bytes.data(),
                         report.signed_bytes.size()) != 1)
        throw Error("the report's signature does not verify with the VCEK: the report was not signed by this chip, "
                    "or it was changed");
    steps.push_back("the report is signed by the VCEK");
    return steps;
}

} // namespace cvm::sev
