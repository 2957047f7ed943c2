// Streaming-hash throughput and memory of the predictors' hashing path:
// cvm::hash over a mapped payload (the way every predictor reads images),
// against `openssl speed -evp ALG` on the same machine, with the process's
// peak resident set size.
//
//   hash-throughput [--size MiB] [--file PATH]   (default: a 1024 MiB scratch file)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"

namespace {

// openssl's figure for 16 KiB blocks, in MB/s (1e6 bytes), or 0.
double openssl_speed(const char* algorithm) {
    std::string cmd = fmt::format("openssl speed -seconds 2 -bytes 16384 -evp {} 2>/dev/null | tail -1", algorithm);
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return 0;
    char line[512] = {};
    if (!fgets(line, sizeof line, p)) line[0] = 0;
    pclose(p);
    // "sha256   123456.78k": thousands of bytes per second.
    std::string text(line);
    auto k = text.rfind('k');
    auto space = text.find_last_of(' ', k);
    if (k == std::string::npos || space == std::string::npos) return 0;
    return std::atof(text.substr(space + 1, k - space - 1).c_str()) / 1000.0;
}

// Process CPU time, the clock `openssl speed` reports against: comparable
// figures even when other work shares the machine.
double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

} // namespace

int main(int argc, char** argv) {
    std::size_t size_mib = 1024;
    std::string path;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--size") size_mib = std::stoul(argv[i + 1]);
        else if (a == "--file") path = argv[i + 1];
    }
    bool scratch = path.empty();
    if (scratch) {
        path = "/tmp/hash-throughput-payload";
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        std::vector<char> block(1 << 20);
        for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 2654435761u >> 13);
        for (std::size_t m = 0; m < size_mib; ++m) {
            block[0] = static_cast<char>(m);
            if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) return 1;
        }
        close(fd);
    }
    long rss_before = peak_rss_kib();
    fmt::print("payload {} ({} MiB), peak RSS before hashing {} KiB\n", path, size_mib, rss_before);
    for (auto algorithm : {cvm::HashAlgorithm::sha256, cvm::HashAlgorithm::sha384, cvm::HashAlgorithm::sha512}) {
        auto payload = cvm::Payload::map_file(path);
        cvm::hash(algorithm, payload);  // warm the page cache
        auto start = std::chrono::steady_clock::now();
        double cpu_start = cpu_seconds();
        auto digest = cvm::hash(algorithm, payload);
        double cpu = cpu_seconds() - cpu_start;
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double ours = static_cast<double>(payload.size()) / cpu / 1e6;
        double ours_wall = static_cast<double>(payload.size()) / wall / 1e6;
        double reference = openssl_speed(std::string(cvm::to_string(algorithm)).c_str());
        fmt::print("{}: libcvm {:7.1f} MB/s (CPU time; wall {:7.1f})  openssl speed {:7.1f} MB/s  ratio {:4.2f}  "
                   "peak RSS {} KiB  ({}...)\n",
                   cvm::to_string(algorithm), ours, ours_wall, reference, reference > 0 ? ours / reference : 0,
                   peak_rss_kib(), digest.hex().substr(0, 16));
    }
    if (scratch) unlink(path.c_str());
    return 0;
}
