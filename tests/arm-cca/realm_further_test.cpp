// Further realms checked against cca-realm-measurements (docs/arm-cca.md,
// "Further realms"): every row of crm-further.tsv, a RIM the reference tool
// printed for one configuration, is predicted again through the library API
// (spec -> arm-cca plan -> RIM) and through `cvm-launch measure --json`.
//
// Inputs: the decompressed Debian kernel (CVM_CCA_DEBIAN_IMAGE), files of
// tests/vectors/cca/ (external.tsv for the Debian kernel), and lcg-300000.bin, which this test generates.
// CVM_CCA_FURTHER_TSV names the table; CVM_LAUNCH the CLI (the CLI test is
// skipped without it, as in cross builds).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "cvm/backend.hpp"
#include "cvm/digest.hpp"
#include "cvm/error.hpp"
#include "cvm/spec.hpp"
#include "test_paths.hpp"

using namespace cvm;

namespace {

constexpr const char* kGeneratedInitrd = "lcg-300000.bin";
constexpr const char* kGeneratedSha256 = "d28df553ab48f1f2483a95ec9b86ee7c44a7a7180d8bc541c8fd79d10a4ba1cc";

// 300000 bytes: x(0) = 1, x(n+1) = x(n) * 1103515245 + 12345 mod 2^32, and
// byte n = bits 16..23 of x(n+1).
std::vector<std::uint8_t> generated_initrd() {
    std::vector<std::uint8_t> bytes(300000);
    std::uint32_t x = 1;
    for (auto& b : bytes) {
        x = x * 1103515245u + 12345u;
        b = static_cast<std::uint8_t>(x >> 16);
    }
    return bytes;
}

struct Row {
    std::string id, layout, memory, kernel, initrd, cmdline, rim;
    unsigned vcpus = 0;
    std::vector<std::pair<std::string, std::string>> options;  // libcvm option, value
};

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> fields;
    std::string field;
    std::istringstream in(line);
    while (std::getline(in, field, sep)) fields.push_back(field);
    return fields;
}

std::vector<Row> load_rows() {
    const char* path = std::getenv("CVM_CCA_FURTHER_TSV");
    if (!path) throw std::runtime_error("CVM_CCA_FURTHER_TSV is not set");
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    std::vector<Row> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto f = split(line, '\t');
        if (f.size() != 10) throw std::runtime_error("not 10 tab-separated fields: " + line);
        if (f[0] == "id") continue;  // the header
        Row row;
        row.id = f[0];
        row.layout = f[1];
        row.vcpus = static_cast<unsigned>(std::stoul(f[2]));
        row.memory = f[3];
        row.kernel = f[4];
        row.initrd = f[5] == "-" ? "" : f[5];
        row.cmdline = f[6] == "-" ? "" : f[6];
        for (const auto& kv : split(f[7], ' ')) {
            auto eq = kv.find('=');
            if (eq == std::string::npos) throw std::runtime_error(row.id + ": option without '=': " + kv);
            row.options.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
        }
        row.rim = f[8];
        rows.push_back(row);
    }
    return rows;
}

// Where the CLI finds the generated initrd: written once per process into a
// temporary directory that is removed at exit.
struct GeneratedFile {
    std::string dir, path;
    GeneratedFile() {
        const char* tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/cvm-cca-further-XXXXXX";
        std::vector<char> buf(templ.begin(), templ.end());
        buf.push_back('\0');
        if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + templ);
        dir = buf.data();
        path = dir + "/" + kGeneratedInitrd;
        auto bytes = generated_initrd();
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("cannot write " + path);
    }
    ~GeneratedFile() {
        unlink(path.c_str());
        rmdir(dir.c_str());
    }
};

std::string generated_initrd_file() {
    static GeneratedFile file;
    return file.path;
}

std::string input_path(const std::string& name) {
    if (name == kGeneratedInitrd) return generated_initrd_file();
    return cvmtest::vector_path("cca/" + name);
}

// Why a row's input files are not all here (an external input not fetched), or "".
std::string row_missing(const Row& row) {
    for (const auto& name : {row.kernel, row.initrd})
        if (!name.empty() && name != kGeneratedInitrd)
            if (auto why = cvmtest::vector_missing("cca/" + name); !why.empty()) return why;
    return "";
}

Payload input_payload(const std::string& name) {
    if (name == kGeneratedInitrd) return Payload::from_bytes(generated_initrd(), kGeneratedInitrd);
    return Payload::map_file(input_path(name));
}

std::string library_rim(const Row& row) {
    VmSpec spec;
    spec.technology = "arm-cca";
    spec.vcpus.count = row.vcpus;
    spec.memory.size = parse_size(row.memory, "memory");
    spec.cmdline = row.cmdline;
    for (const auto& [key, value] : row.options) spec.options[key] = value;
    spec.images.push_back({ImageRole::kernel, input_payload(row.kernel), true, {}});
    if (!row.initrd.empty()) spec.images.push_back({ImageRole::initrd, input_payload(row.initrd), true, {}});
    const auto& backend = find_backend("arm-cca");
    return backend.predict(backend.build_plan(spec)).value.hex();
}

std::string quoted(const std::string& arg) {
    std::string out = "'";
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string cli_rim(const std::string& cvm_launch, const Row& row, std::string& output) {
    std::string cmd = quoted(cvm_launch) + " measure --tech arm-cca --json --vcpus " + std::to_string(row.vcpus) +
                      " --memory " + quoted(row.memory) + " --kernel " + quoted(input_path(row.kernel));
    if (!row.initrd.empty()) cmd += " --initrd " + quoted(input_path(row.initrd));
    if (!row.cmdline.empty()) cmd += " --cmdline " + quoted(row.cmdline);
    for (const auto& [key, value] : row.options) cmd += " --" + key + " " + quoted(value);
    cmd += " 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    if (!pipe) throw std::runtime_error("popen failed: " + cmd);
    char buf[4096];
    std::size_t n;
    output.clear();
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
    int status = pclose(pipe);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
    const std::string key = "\"measurement\": \"";
    auto at = output.find(key);
    if (at == std::string::npos) return "";
    at += key.size();
    return output.substr(at, output.find('"', at) - at);
}

} // namespace

// The generated initrd is the file whose SHA-256 the table's provenance names.
TEST(RealmFurther, GeneratedInitrdIsTheRecordedOne) {
    auto bytes = generated_initrd();
    EXPECT_EQ(Hasher(HashAlgorithm::sha256).update(ByteSpan(bytes.data(), bytes.size())).finish().hex(),
              kGeneratedSha256);
}

// The table is whole: enough rows, unique ids, RIMs of the hash's length.
TEST(RealmFurther, TableIsWellFormed) {
    auto rows = load_rows();
    EXPECT_GE(rows.size(), 50u);
    std::set<std::string> ids;
    for (const auto& row : rows) {
        EXPECT_TRUE(ids.insert(row.id).second) << row.id;
        EXPECT_TRUE(row.rim.size() == 64 || row.rim.size() == 128) << row.id;
    }
}

TEST(RealmFurther, EveryRowThroughTheLibrary) {
    // Under emulation every fourth row: each row's hashing is what a cross
    // build checks, and the native run covers all of them.
    const std::size_t step = cvmtest::under_emulation() ? 4 : 1;
    const auto rows = load_rows();
    for (std::size_t i = 0; i < rows.size(); i += step) {
        const auto& row = rows[i];
        if (!row_missing(row).empty()) continue;  // ExternalInputs reports it
        try {
            EXPECT_EQ(library_rim(row), row.rim) << row.id;
        } catch (const std::exception& e) {
            ADD_FAILURE() << row.id << ": " << e.what();
        }
    }
}

TEST(RealmFurther, EveryRowThroughTheCli) {
    const char* cvm_launch = std::getenv("CVM_LAUNCH");
    if (!cvm_launch || !*cvm_launch) GTEST_SKIP() << "CVM_LAUNCH is not set (cross build)";
    for (const auto& row : load_rows()) {
        if (!row_missing(row).empty()) continue;  // ExternalInputs reports it
        std::string output;
        EXPECT_EQ(cli_rim(cvm_launch, row, output), row.rim) << row.id << ": " << output;
    }
}

// The rows whose inputs include an absent external input: one skip that
// names them, so that no unchecked row passes silently.
TEST(RealmFurther, ExternalInputs) {
    std::size_t absent = 0;
    std::string why;
    for (const auto& row : load_rows())
        if (auto reason = row_missing(row); !reason.empty()) {
            ++absent;
            why = reason;
        }
    if (absent) GTEST_SKIP() << absent << " rows not checked: " << why;
}
