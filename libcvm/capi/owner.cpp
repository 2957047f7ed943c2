// The guest owner of an SEV launch for C callers: the round trip
// (cvm_launch_set_owner*, cvm_sev_owner_reply; cvm/owner_channel.hpp,
// cvm/sev_owner.hpp), the certificates (cvm/sev_cert.hpp), and an SNP
// owner's ID block (cvm/snp_id_block.hpp).
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "cvm/error.hpp"
#include "cvm/owner_channel.hpp"
#include "cvm/sev_cert.hpp"
#include "cvm/sev_owner.hpp"
#include "cvm/snp_id_block.hpp"
#include "libcvm/capi/handles.hpp"
#include "libcvm/capi/status.hpp"

using cvm::capi::fail;
using cvm::capi::guarded;

namespace {

// The callback's reply, freed with free() as the header promises.
struct MallocFree {
    void operator()(char* p) const { std::free(p); }
};

cvm::OwnerRoundTrip from_callback(cvm_owner_fn owner, void* context) {
    return [owner, context](const std::string& request) {
        char* raw = nullptr;
        cvm_status status = owner(context, request.c_str(), &raw);
        std::unique_ptr<char, MallocFree> reply(raw);
        if (status != CVM_OK)
            throw cvm::Error(fmt::format("the owner callback failed ({})", cvm_status_name(status)), 0, "owner");
        if (!reply) throw cvm::Error("the owner callback returned CVM_OK without a reply", 0, "owner");
        return std::string(reply.get());
    };
}

} // namespace

extern "C" {

cvm_status cvm_launch_set_owner(cvm_launch* launch, cvm_owner_fn owner, void* context) {
    CVM_REQUIRE(launch);
    return guarded([&] { launch->options.owner = owner ? from_callback(owner, context) : cvm::OwnerRoundTrip{}; });
}

cvm_status cvm_launch_set_owner_fds(cvm_launch* launch, int read_fd, int write_fd) {
    CVM_REQUIRE(launch);
    if (read_fd < 0 || write_fd < 0)
        return fail(CVM_ERR_ARGUMENT, fmt::format("owner fds {} and {}: both must be open", read_fd, write_fd).c_str());
    return guarded([&] {
        launch->options.owner = cvm::owner_over_fds(read_fd, write_fd, {}, [launch] { return launch->interrupt.load() != 0; });
    });
}

cvm_status cvm_launch_set_owner_command(cvm_launch* launch, const char* command) {
    CVM_REQUIRE(launch);
    CVM_REQUIRE(command);
    return guarded([&] { launch->options.owner = cvm::owner_over_command(command); });
}

cvm_status cvm_sev_owner_reply(const char* request_json, const uint8_t* launch_digest, size_t digest_size,
                               uint32_t expected_policy, const uint8_t tik[16], const uint8_t* tek,
                               const uint8_t* secret, size_t secret_size, int* proven, char** reply_json) {
    CVM_REQUIRE(request_json);
    CVM_REQUIRE(launch_digest);
    CVM_REQUIRE(tik);
    CVM_REQUIRE(secret || secret_size == 0);
    CVM_REQUIRE(tek || secret_size == 0);
    CVM_REQUIRE(proven);
    CVM_REQUIRE(reply_json);
    return guarded([&] {
        const auto request = cvm::sev::parse_secret_request(request_json);
        cvm::sev::TransportKeys keys;  // wiped by its destructor
        std::memcpy(keys.tik.data(), tik, 16);
        if (tek) std::memcpy(keys.tek.data(), tek, 16);
        const auto reply = cvm::sev::answer_secret_request(request, keys, cvm::ByteSpan(launch_digest, digest_size),
                                                           expected_policy, cvm::ByteSpan(secret, secret_size));
        *reply_json = cvm::capi::malloc_copy(cvm::sev::to_json(reply));
        *proven = reply.action == cvm::sev::SecretReply::Action::abort ? 0 : 1;
    });
}

cvm_status cvm_sev_verify_pdh_chain(const char* pdh, const char* pek, const char* oca, const char* cek,
                                    const char* ask, const char* ark, int* trusted, char** report_json) {
    for (const char* path : {pdh, pek, oca, cek, ask, ark})
        if (!path) return fail(CVM_ERR_ARGUMENT, "a certificate path is NULL");
    CVM_REQUIRE(trusted);
    return guarded([&] {
        const auto chain = cvm::sev::read_pdh_chain({pdh, pek, oca, cek, ask, ark});
        const auto result = cvm::sev::verify_pdh_chain(chain);
        if (report_json) *report_json = cvm::capi::malloc_copy(cvm::sev::pdh_chain_report_json(chain, result));
        *trusted = result.trusted() ? 1 : 0;
    });
}

cvm_status cvm_sev_owner_dh_certificate(const char* key_pem, int self_sign, uint8_t api_major, uint8_t api_minor,
                                        uint8_t** certificate, size_t* size) {
    CVM_REQUIRE(key_pem);
    CVM_REQUIRE(certificate);
    CVM_REQUIRE(size);
    return guarded([&] {
        cvm::sev::OwnerCertOptions options;
        options.self_sign = self_sign != 0;
        options.api_major = api_major;
        options.api_minor = api_minor;
        const auto cert = cvm::sev::make_owner_dh_certificate(key_pem, options);
        auto* copy = static_cast<uint8_t*>(std::malloc(cert.size()));
        if (!copy) throw std::bad_alloc();
        std::memcpy(copy, cert.data(), cert.size());
        *certificate = copy;
        *size = cert.size();
    });
}

cvm_status cvm_snp_sign_id_block(const uint8_t* launch_digest, uint64_t policy, const uint8_t* family_id,
                                 const uint8_t* image_id, uint32_t guest_svn, const char* id_key_pem,
                                 const char* author_key_pem, uint8_t* id_block, uint8_t* id_auth,
                                 uint8_t* id_key_digest, uint8_t* author_key_digest) {
    CVM_REQUIRE(launch_digest);
    CVM_REQUIRE(id_key_pem);
    CVM_REQUIRE(id_block);
    CVM_REQUIRE(id_auth);
    CVM_REQUIRE(id_key_digest);
    return guarded([&] {
        cvm::sev::SnpIdBlock block;
        std::memcpy(block.launch_digest.data(), launch_digest, block.launch_digest.size());
        if (family_id) std::memcpy(block.family_id.data(), family_id, block.family_id.size());
        if (image_id) std::memcpy(block.image_id.data(), image_id, block.image_id.size());
        block.guest_svn = guest_svn;
        block.policy = policy;
        std::optional<std::string> author;
        if (author_key_pem) author = author_key_pem;
        const auto s = cvm::sev::sign_snp_id_block(block, id_key_pem, author);
        std::memcpy(id_block, s.id_block.data(), s.id_block.size());
        std::memcpy(id_auth, s.id_auth.data(), s.id_auth.size());
        std::memcpy(id_key_digest, s.id_key_digest.data(), s.id_key_digest.size());
        if (author_key_digest) {
            std::memset(author_key_digest, 0, 48);
            if (s.author_key_digest) std::memcpy(author_key_digest, s.author_key_digest->data(), 48);
        }
    });
}

cvm_status cvm_sev_make_session(const uint8_t* pdh_cert, size_t pdh_cert_size, const char* owner_key_pem,
                                uint32_t policy, uint8_t* session, uint8_t* tik, uint8_t* tek) {
    CVM_REQUIRE(pdh_cert);
    CVM_REQUIRE(owner_key_pem);
    CVM_REQUIRE(session);
    CVM_REQUIRE(tik);
    CVM_REQUIRE(tek);
    return guarded([&] {
        const auto pdh = cvm::sev::parse_sev_certificate(cvm::ByteSpan(pdh_cert, pdh_cert_size), "PDH certificate",
                                                         cvm::sev::CertUsage::pdh);
        auto shared = cvm::sev::ecdh_p384(owner_key_pem, cvm::sev::sev_certificate_public_key_pem(pdh));
        const auto keys = cvm::sev::TransportKeys::random();
        const auto nonce = cvm::sev::TransportKeys::random().tek, iv = cvm::sev::TransportKeys::random().tek;
        const auto blob = cvm::sev::make_launch_session(keys, shared, policy, nonce, iv);
        OPENSSL_cleanse(shared.data(), shared.size());
        std::memcpy(session, blob.data(), blob.size());
        std::memcpy(tik, keys.tik.data(), 16);
        std::memcpy(tek, keys.tek.data(), 16);
    });
}

} // extern "C"
