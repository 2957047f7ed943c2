// The owner round trip's messages from anyone: the reply a launch reads off
// its channel, and the request an owner's service reads. Each is refused
// with a cvm::Error or parsed into values that satisfy the documented
// limits, and what parses writes back to JSON that parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cvm/error.hpp"
#include "cvm/sev_owner.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto reply = cvm::sev::parse_secret_reply(text);
        const auto n = reply.packet.ciphertext.size();
        if (reply.action == cvm::sev::SecretReply::Action::inject && (n == 0 || n % 16 != 0 || n > 16384)) std::abort();
        auto again = cvm::sev::parse_secret_reply(cvm::sev::to_json(reply));
        if (again.action != reply.action || again.packet.ciphertext != reply.packet.ciphertext ||
            again.packet.header != reply.packet.header || again.gpa != reply.gpa || again.reason != reply.reason)
            std::abort();
    } catch (const cvm::Error&) {
    }
    try {
        auto request = cvm::sev::parse_secret_request(text);
        if (request.secret_gpa.has_value() != request.secret_size.has_value()) std::abort();
        auto again = cvm::sev::parse_secret_request(cvm::sev::to_json(request));
        if (again.measure != request.measure || again.policy != request.policy || again.secret_gpa != request.secret_gpa)
            std::abort();
    } catch (const cvm::Error&) {
    }
    return 0;
}
