// cvm-launch: the minimal launcher. `run` boots a guest, `plan` shows what a
// launch would do, `measure` predicts what it would measure, without any
// hardware. Exit codes are listed in --help.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "cvm/backend.hpp"
#include "cvm/cvm.h"
#include "cvm/error.hpp"
#include "cvm/owner_channel.hpp"
#include "cvm/reference_values.hpp"
#include "cvm/sev_reference.hpp"
#include "cert_commands.hpp"
#include "id_block_commands.hpp"
#include "exit_codes.hpp"
#include "lazy_options.hpp"
#include "log_commands.hpp"
#include "report_commands.hpp"
#include "sev_owner_commands.hpp"
#include "spec_options.hpp"
#include "value_format.hpp"

namespace {

using cvmlaunch::kExitCodeHelp;
using cvmlaunch::kExitError;
using cvmlaunch::kExitUsage;
constexpr double kMaxTimeoutSeconds = 365.0 * 24 * 3600;

int cmd_plan(const cvmlaunch::SpecOptions& o) {
    auto spec = o.to_spec();
    const auto& backend = cvm::find_backend(spec.technology);
    auto plan = backend.build_plan(spec);
    if (o.json) fmt::print("{}\n", plan.to_json());
    else fmt::print("{}", plan.to_text());
    return 0;
}

// The options of `measure` beyond the spec.
struct MeasureOptions {
    cvmlaunch::ValueFormat format;
    bool dump_vmsa = false;
    std::string reference_format;
    std::string output;

    void add_to(CLI::App& measure) {
        format.add_to(measure);
        measure.add_flag("--dump-vmsa", dump_vmsa,
                         "amd-sev-es, amd-sev-snp: also write each vCPU's measured VMSA page to vmsaN.bin in the "
                         "current directory (as sev-snp-measure)");
        measure
            .add_option("--reference-format", reference_format,
                        "Print the prediction as reference values for a verifier service instead: corim (Veraison "
                        "unsigned CoRIM, CBOR), trustee (Trustee RVPS sample message), keybroker (keybroker-demo "
                        "--reference-values, arm-cca)")
            ->check(CLI::IsMember({"corim", "trustee", "keybroker"}));
        measure.add_option("--output", output, "With --reference-format: write the reference values to FILE, not stdout")
            ->type_name("FILE");
    }
    // The options that change how the measurement itself is printed mean
    // nothing beside a reference format, which fixes its own encoding.
    void check(bool json) const {
        if (!output.empty() && reference_format.empty()) throw cvmlaunch::UsageError("--output needs --reference-format");
        if (reference_format.empty()) return;
        if (json) throw cvmlaunch::UsageError("--reference-format prints its own format: drop --json");
        if (format.base64() || format.pad() || format.encoding != "hex")
            throw cvmlaunch::UsageError("--reference-format fixes the encoding of every value: drop --output-format, "
                                        "--padded and --print-b64");
    }
};

// The reference values of one prediction, to stdout or --output FILE.
void write_reference_values(const MeasureOptions& m, const cvm::LaunchPlan& plan, const cvm::Measurement& measurement) {
    auto format = cvm::reference::parse_format(m.reference_format);
    auto document = cvm::reference::render(format, cvm::reference::launch_values(plan, measurement));
    if (!m.output.empty()) {
        cvmlaunch::EventLogOutput::write_file(m.output, document);
        return;
    }
    if (std::fwrite(document.data(), 1, document.size(), stdout) != document.size())
        throw cvm::Error("cannot write the reference values to stdout", errno);
}

// sev-snp-measure's snp:ovmf-hash mode: the firmware's pages alone.
int cmd_ovmf_hash(const cvmlaunch::SpecOptions& o, const MeasureOptions& m) {
    if (o.firmware.empty()) throw cvmlaunch::UsageError("--mode snp:ovmf-hash needs --firmware (--ovmf)");
    if (!o.kernel.empty() || !o.initrd.empty() || !o.cmdline.empty() || m.dump_vmsa)
        throw cvmlaunch::UsageError("--mode snp:ovmf-hash hashes the firmware alone: no kernel, initrd, command line "
                                    "or VMSA");
    auto digest = cvm::sev::snp_ovmf_hash(cvm::Payload::open_file(o.firmware));
    const std::string value = m.format.render(digest, "amd-sev-snp");
    if (o.json) fmt::print("{}\n", nlohmann::ordered_json{{"mode", o.mode}, {"ovmf_hash", value}}.dump(2));
    else fmt::print("{}\n", value);
    return 0;
}

int cmd_measure(const cvmlaunch::SpecOptions& o, const MeasureOptions& m, const cvmlaunch::EventLogOutput& log) {
    m.check(o.json);
    if (o.ovmf_hash_mode()) {
        if (!m.reference_format.empty())
            throw cvmlaunch::UsageError("--mode snp:ovmf-hash is no launch measurement: no --reference-format");
        return cmd_ovmf_hash(o, m);
    }
    auto spec = o.to_spec();
    const auto& backend = cvm::find_backend(spec.technology);
    auto plan = backend.build_plan(spec);
    // With a log, the measurement and the events come from one walk.
    cvm::Measurement measurement;
    if (log.wanted()) {
        auto prediction = backend.predict_with_events(plan);
        measurement = std::move(prediction.measurement);
        log.write(plan, prediction.events);
    } else {
        measurement = backend.predict(plan);
    }
    if (m.dump_vmsa) {
        auto pages = cvm::sev::vmsa_pages(plan);
        for (std::size_t i = 0; i < pages.size(); ++i)
            cvmlaunch::EventLogOutput::write_file(fmt::format("vmsa{}.bin", i), pages[i]);
    }
    if (!m.reference_format.empty()) {
        write_reference_values(m, plan, measurement);
        return 0;
    }
    const std::string value = m.format.render(measurement.value, measurement.technology);
    if (o.json) {
        auto j = nlohmann::ordered_json::parse(measurement.to_json());
        j["measurement"] = value;
        j["encoding"] = fmt::format("{}{}", m.format.base64() ? "base64" : "hex", m.format.pad() ? ", padded to 64 bytes" : "");
        // What a verifier matches beside the measurement: the launch's
        // configuration (an SNP policy, a realm's RPV and parameters, ...).
        nlohmann::ordered_json config = nlohmann::ordered_json::object();
        for (const auto& operation : plan.operations())
            if (const auto* create = std::get_if<cvm::op::CreateVm>(&operation))
                for (const auto& field : create->fields()) config[field.name] = field.value;
        j["config"] = config;
        fmt::print("{}\n", j.dump(2));
    } else {
        fmt::print("technology:  {}\nalgorithm:   {}\nmeasurement: {}\n", measurement.technology,
                   cvm::to_string(measurement.value.algorithm()), value);
        for (const auto& r : measurement.registers) fmt::print("{:<12} {}\n", r.name + ":", r.value.hex());
    }
    return 0;
}

// How `run` reaches a guest owner, if at all.
struct OwnerOptions {
    std::string command;
    int fd = -1;
    void add_to(CLI::App& run) {
        auto* cmd = run.add_option("--owner-command", command,
                                   "AMD SEV/SEV-ES: between LAUNCH_MEASURE and LAUNCH_FINISH, run CMD (sh -c) with the "
                                   "launch's JSON request on stdin and take its first stdout line as the owner's "
                                   "reply (e.g. cvm-launch owner-reply ...); docs/amd-sev.md");
        auto* f = run.add_option("--owner-fd", fd,
                                 "Like --owner-command, over an inherited socket FD: one JSON line each way")
                      ->check(CLI::NonNegativeNumber);
        cmd->excludes(f);
    }
    cvm::OwnerRoundTrip round_trip() const {
        if (!command.empty()) return cvm::owner_over_command(command);
        if (fd >= 0) return cvm::owner_over_fds(fd, fd);
        return {};
    }
};

int cmd_run(const cvmlaunch::SpecOptions& o, const OwnerOptions& owner, double timeout_seconds) {
    auto started = std::chrono::steady_clock::now();
    auto spec = o.to_spec(cvmlaunch::SpecOptions::Use::launch);
    const auto& backend = cvm::find_backend(spec.technology);
    auto plan = backend.build_plan(spec);
    auto measurement = backend.predict(plan);
    if (!o.json)
        fmt::print(stderr, "cvm-launch: {} launch, {} vCPU(s), {} MiB; measurement {}:{}\n", spec.technology,
                   spec.vcpus.count, spec.memory.size >> 20, cvm::to_string(measurement.value.algorithm()),
                   measurement.value.hex());

    cvm::RunOptions run;
    run.console_fd = o.json ? STDERR_FILENO : STDOUT_FILENO;  // keep stdout for the JSON
    // A console that is closed or read-only would lose every byte of the
    // guest's output silently: say so before booting.
    int console_flags = ::fcntl(run.console_fd, F_GETFL);
    if (console_flags < 0 || (console_flags & O_ACCMODE) == O_RDONLY)
        throw cvm::Error("the console is not writable", console_flags < 0 ? errno : EBADF,
                         fmt::format("console fd {}", run.console_fd));
    run.timeout = std::chrono::milliseconds(static_cast<long long>(timeout_seconds * 1000));
    run.owner = owner.round_trip();
    auto result = backend.launch(plan, run);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    int code = static_cast<int>(result.reason);
    if (o.json) {
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(measurement.to_json());
        j["exit"] = {{"reason", cvm::to_string(result.reason)}, {"code", code}, {"detail", result.detail}};
        j["seconds"] = seconds;
        fmt::print("{}\n", j.dump(2));
    } else {
        fmt::print(stderr, "\ncvm-launch: {} after {:.3f} s (exit {})\n", result.detail, seconds, code);
    }
    return code;
}

} // namespace

int main(int argc, char** argv) {
    // cvm-launch hashes, verifies signatures and wraps keys with OpenSSL's
    // default provider; reading the system's openssl.cnf first costs a
    // quarter of a short prediction's own work and changes none of it.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
    CLI::App app{"cvm-launch: boot a (confidential) VM through a libcvm launch plan, or predict its measurement"};
    app.footer(kExitCodeHelp);
    app.set_version_flag("--version", fmt::format("cvm-launch (libcvm {})", cvm_version(nullptr, nullptr, nullptr)),
                         "Print the version of cvm-launch and libcvm and exit");
    app.require_subcommand(1);

    cvmlaunch::SpecOptions run_options, plan_options, measure_options;
    double timeout = 0;
    auto* run = app.add_subcommand("run", "Boot the guest and stream its console to stdout until it stops");
    run_options.add_to(*run);
    OwnerOptions owner;
    cvmlaunch::add_options_when_chosen(*run, [&](CLI::App& r) {
        r.add_option("--timeout", timeout, "Stop the guest after SEC seconds (default: no limit)")
            ->check(CLI::Validator(
                [](std::string& text) -> std::string {
                    // nan passes ">= 0" checks and 1e300 s overflows the milliseconds
                    // (undefined behaviour): a finite number up to a year.
                    double value = 0;
                    try {
                        std::size_t used = 0;
                        value = std::stod(text, &used);
                        if (used != text.size()) return "expected a number of seconds";
                    } catch (const std::exception&) {
                        return "expected a number of seconds";
                    }
                    if (!std::isfinite(value) || value < 0 || value > kMaxTimeoutSeconds)
                        return fmt::format("expected seconds from 0 to {}", kMaxTimeoutSeconds);
                    return {};
                },
                "SEC"));
        owner.add_to(r);
        r.footer(kExitCodeHelp);
    });
    auto* plan = app.add_subcommand("plan", "Print the launch plan: every operation the launch performs, in order");
    plan_options.add_to(*plan);
    auto* measure = app.add_subcommand("measure", "Predict the launch measurement, without any hardware");
    measure_options.add_to(*measure);
    MeasureOptions measure_extra;
    cvmlaunch::EventLogOutput event_log;
    cvmlaunch::add_options_when_chosen(*measure, [&](CLI::App& m) {
        measure_extra.add_to(m);
        event_log.add_to(m);
    });
    cvmlaunch::SevOwnerCommands sev_owner;
    sev_owner.add_to(app);
    cvmlaunch::LogCommands log_commands;
    log_commands.add_to(app);
    cvmlaunch::ReportCommands report_commands;
    report_commands.add_to(app);
    cvmlaunch::CertCommands cert_commands;
    cert_commands.add_to(app);
    cvmlaunch::IdBlockCommands id_block_commands;
    id_block_commands.add_to(app);

    // Under --json every outcome is one JSON object on stdout, errors too.
    const bool json = std::any_of(argv + 1, argv + argc, [](const char* a) { return std::strcmp(a, "--json") == 0; });
    auto fail = [json](int code, const std::string& message) {
        if (json) fmt::print("{}\n", nlohmann::ordered_json{{"error", message}, {"exit", code}}.dump(2));
        fmt::print(stderr, "cvm-launch: error: {}\n", message);
        return code;
    };
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        if (json) return fail(kExitUsage, e.what());
        app.exit(e);
        return kExitUsage;
    }

    try {
        int code = 0;
        if (sev_owner.run_if_parsed(code) || report_commands.run_if_parsed(code) || cert_commands.run_if_parsed(code) ||
            id_block_commands.run_if_parsed(code)) {
        } else if (run->parsed()) {
            code = cmd_run(run_options, owner, timeout);
        } else if (plan->parsed()) {
            code = cmd_plan(plan_options);
        } else if (log_commands.parsed()) {
            code = log_commands.run();
        } else {
            code = cmd_measure(measure_options, measure_extra, event_log);
        }
        // stdout is buffered: a full disk or a closed pipe shows only here.
        // A result that did not reach its reader is an error, not a success.
        if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
            int err = errno;
            fmt::print(stderr, "cvm-launch: error: cannot write the output to stdout: {}\n", std::strerror(err));
            return kExitError;
        }
        return code;
    } catch (const cvmlaunch::UsageError& e) {
        return fail(kExitUsage, e.what());
    } catch (const std::exception& e) {
        return fail(kExitError, e.what());
    }
}
