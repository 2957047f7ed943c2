// The guest owner's round trip of an SEV launch for Python: launch(...,
// owner=callable) and cvm.sev_owner_reply(), the owner's side.
#include <cstring>

#include <fmt/format.h>
#include <pybind11/stl.h>

#include "bindings/python/bindings.hpp"
#include "cvm/error.hpp"
#include "cvm/owner_channel.hpp"
#include "cvm/sev_cert.hpp"
#include "cvm/sev_owner.hpp"
#include "cvm/reference_values.hpp"
#include "cvm/snp_id_block.hpp"
#include "cvm/snp_report.hpp"

namespace cvm::python {
namespace {

sev::Key128 key_of(const py::bytes& b, const char* what) {
    const std::string k = b;
    if (k.size() != 16) throw Error(fmt::format("{}: {} bytes, expected 16", what, k.size()));
    sev::Key128 key{};
    std::memcpy(key.data(), k.data(), 16);
    return key;
}

// The request or reply as the JSON text the protocol carries: a str passes
// as is, a dict is dumped with Python's json module.
std::string as_json_text(const py::object& value) {
    if (py::isinstance<py::str>(value)) return value.cast<std::string>();
    return py::module_::import("json").attr("dumps")(value).cast<std::string>();
}

py::object from_json_text(const std::string& text) { return py::module_::import("json").attr("loads")(text); }

} // namespace

OwnerRoundTrip owner_from_python(py::object owner, std::optional<py::error_already_set>& raised) {
    if (py::isinstance<py::str>(owner)) return owner_over_command(owner.cast<std::string>());
    if (py::isinstance<py::int_>(owner)) {
        int fd = owner.cast<int>();
        return owner_over_fds(fd, fd);
    }
    if (!PyCallable_Check(owner.ptr())) throw Error("owner: expected a callable, a command (str) or a socket fd (int)");
    return [owner = std::move(owner), &raised](const std::string& request) {
        py::gil_scoped_acquire locked;
        try {
            return as_json_text(owner(from_json_text(request)));
        } catch (py::error_already_set& e) {
            raised.emplace(std::move(e));
            throw Error("the owner callable raised an exception", 0, "owner");
        }
    };
}

void bind_owner(py::module_& m) {
    m.def("sev_owner_reply",
          [](const py::object& request, const py::bytes& launch_digest, std::uint32_t policy, const py::bytes& tik,
             const std::optional<py::bytes>& tek, const py::bytes& secret) {
              const auto parsed = sev::parse_secret_request(as_json_text(request));
              sev::TransportKeys keys;
              keys.tik = key_of(tik, "tik");
              const std::string s = secret, digest = launch_digest;
              if (!s.empty()) {
                  if (!tek) throw Error("a secret needs tek, the transport encryption key");
                  keys.tek = key_of(*tek, "tek");
              }
              auto reply = sev::answer_secret_request(
                  parsed, keys, ByteSpan(reinterpret_cast<const std::uint8_t*>(digest.data()), digest.size()), policy,
                  ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
              return from_json_text(sev::to_json(reply));
          },
          py::arg("request"), py::arg("launch_digest"), py::arg("policy"), py::arg("tik"), py::arg("tek") = py::none(),
          py::arg("secret") = py::bytes(),
          "The guest owner's answer to an SEV launch's round-trip request (a dict or its JSON text):\n"
          "checks the launch runs under `policy` and its MEASURE proves `launch_digest` with the TIK,\n"
          "then wraps `secret` with the TEK (empty: finish without one). Returns the reply dict:\n"
          "{'action': 'inject', 'header', 'secret'}, {'action': 'finish'} or {'action': 'abort', 'reason'}.");
    m.def("sev_verify_pdh_chain",
          [](const std::string& pdh, const std::string& pek, const std::string& oca, const std::string& cek,
             const std::string& ask, const std::string& ark) {
              const auto chain = sev::read_pdh_chain({pdh, pek, oca, cek, ask, ark});
              return from_json_text(sev::pdh_chain_report_json(chain, sev::verify_pdh_chain(chain)));
          },
          py::arg("pdh"), py::arg("pek"), py::arg("oca"), py::arg("cek"), py::arg("ask"), py::arg("ark"),
          "Checks an SEV platform's PDH certificate up to the ARK (paths to the six files); returns\n"
          "{'trusted', 'pdh', 'checked', 'failures'} as `cvm-launch verify-pdh-chain --json` prints it.");
    m.def("sev_owner_dh_certificate",
          [](const std::string& key_pem, bool self_sign, std::uint8_t api_major, std::uint8_t api_minor) {
              sev::OwnerCertOptions options;
              options.self_sign = self_sign;
              options.api_major = api_major;
              options.api_minor = api_minor;
              const auto cert = sev::make_owner_dh_certificate(key_pem, options);
              return to_bytes(cert);
          },
          py::arg("key_pem"), py::arg("self_sign") = true, py::arg("api_major") = 0, py::arg("api_minor") = 0,
          "The guest owner's DH certificate for LAUNCH_START (0x824 bytes) from a P-384 private key in PEM.");
    m.def("snp_sign_id_block",
          [](const py::bytes& launch_digest, std::uint64_t policy, const std::string& id_key_pem,
             const std::optional<std::string>& author_key_pem, const py::bytes& family_id, const py::bytes& image_id,
             std::uint32_t guest_svn) {
              auto fixed = [](const py::bytes& b, std::span<std::uint8_t> out, const char* what, bool may_be_empty) {
                  const std::string v = b;
                  if (v.empty() && may_be_empty) return;
                  if (v.size() != out.size()) throw Error(fmt::format("{}: {} bytes, expected {}", what, v.size(), out.size()));
                  std::memcpy(out.data(), v.data(), out.size());
              };
              sev::SnpIdBlock block;
              fixed(launch_digest, block.launch_digest, "launch_digest", false);
              fixed(family_id, block.family_id, "family_id", true);
              fixed(image_id, block.image_id, "image_id", true);
              block.policy = policy;
              block.guest_svn = guest_svn;
              const auto s = sev::sign_snp_id_block(block, id_key_pem, author_key_pem);
              auto as_bytes = [](const auto& a) { return py::bytes(reinterpret_cast<const char*>(a.data()), a.size()); };
              py::dict out;
              out["id_block"] = as_bytes(s.id_block);
              out["id_auth"] = as_bytes(s.id_auth);
              out["id_key_digest"] = as_bytes(s.id_key_digest);
              out["author_key_digest"] = s.author_key_digest ? py::object(as_bytes(*s.author_key_digest)) : py::none();
              return out;
          },
          py::arg("launch_digest"), py::arg("policy"), py::arg("id_key_pem"), py::arg("author_key_pem") = py::none(),
          py::arg("family_id") = py::bytes(), py::arg("image_id") = py::bytes(), py::arg("guest_svn") = 0,
          "The SNP ID block for SNP_LAUNCH_FINISH, signed with the ID key (and the ID key with the author\n"
          "key): {'id_block', 'id_auth', 'id_key_digest', 'author_key_digest'} as bytes.");
    m.def("sev_make_session",
          [](const py::bytes& pdh_cert, const std::string& owner_key_pem, std::uint32_t policy) {
              const std::string cert = pdh_cert;
              const auto pdh = sev::parse_sev_certificate(
                  ByteSpan(reinterpret_cast<const std::uint8_t*>(cert.data()), cert.size()), "pdh_cert",
                  sev::CertUsage::pdh);
              auto shared = sev::ecdh_p384(owner_key_pem, sev::sev_certificate_public_key_pem(pdh));
              const auto keys = sev::TransportKeys::random();
              const auto nonce = sev::TransportKeys::random().tek, iv = sev::TransportKeys::random().tek;
              const auto blob = sev::make_launch_session(keys, shared, policy, nonce, iv);
              std::fill(shared.begin(), shared.end(), 0);
              auto as_bytes = [](const auto& a) { return py::bytes(reinterpret_cast<const char*>(a.data()), a.size()); };
              py::dict out;
              out["session"] = as_bytes(blob);
              out["tik"] = as_bytes(keys.tik);
              out["tek"] = as_bytes(keys.tek);
              return out;
          },
          py::arg("pdh_cert"), py::arg("owner_key_pem"), py::arg("policy") = 1,
          "The LAUNCH_START session for a platform's PDH certificate (bytes) and fresh transport keys:\n"
          "{'session', 'tik', 'tek'} (keep the keys secret).");
    m.def("snp_verify_report",
          [](const py::bytes& report, const std::string& vcek, const std::string& ask, const std::string& ark,
             const py::bytes& measurement, const std::optional<py::bytes>& host_data,
             const std::optional<py::bytes>& report_data, const std::optional<py::bytes>& id_key_digest,
             const std::optional<py::bytes>& author_key_digest) {
              const std::string r = report;
              const auto parsed = sev::parse_snp_report(ByteSpan(reinterpret_cast<const std::uint8_t*>(r.data()), r.size()),
                                                        "report");
              auto bytes = [](const std::optional<py::bytes>& b) {
                  if (!b) return std::vector<std::uint8_t>{};
                  const std::string v = *b;
                  return std::vector<std::uint8_t>(v.begin(), v.end());
              };
              sev::SnpReportExpectations want;
              want.measurement = bytes(measurement);
              want.host_data = bytes(host_data);
              want.report_data = bytes(report_data);
              want.id_key_digest = bytes(id_key_digest);
              want.author_key_digest = bytes(author_key_digest);
              return from_json_text(sev::snp_report_check_json(parsed, sev::check_snp_report(parsed, {vcek, ask, ark}, want)));
          },
          py::arg("report"), py::arg("vcek"), py::arg("ask"), py::arg("ark"), py::arg("measurement"),
          py::arg("host_data") = py::none(), py::arg("report_data") = py::none(), py::arg("id_key_digest") = py::none(),
          py::arg("author_key_digest") = py::none(),
          "Checks an SEV-SNP attestation report (bytes) against the VCEK/ASK/ARK certificate files and the\n"
          "expected measurement (and the optional fields); returns verify-report --json's object as a dict.");
    m.def("reference_values",
          [](const py::object& source, const std::string& format, const py::kwargs& kwargs) {
              const LaunchPlan plan = plan_from(source, kwargs);
              const auto measurement = find_backend(plan.technology()).predict(plan);
              const auto out = reference::render(reference::parse_format(format), reference::launch_values(plan, measurement));
              return to_bytes(out);
          },
          py::arg("spec") = py::none(), py::kw_only(), py::arg("format") = "corim",
          "The predicted launch as reference values for a verifier service: format 'corim' (CBOR),\n"
          "'trustee' or 'keybroker' (JSON), as cvm-launch measure --reference-format writes them.");
}

} // namespace cvm::python
