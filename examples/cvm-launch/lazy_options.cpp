#include "lazy_options.hpp"

#include <map>
#include <utility>
#include <vector>

namespace cvmlaunch {

namespace {

using OptionBuilders = std::vector<std::function<void(CLI::App&)>>;

// One process parses one command line: the builders wait here until their
// subcommand is reached (CLI11 keeps one pre-parse callback per subcommand
// and cannot hand it back to be chained).
std::map<const CLI::App*, OptionBuilders>& pending() {
    static std::map<const CLI::App*, OptionBuilders> builders;
    return builders;
}

} // namespace

void add_options_when_chosen(CLI::App& sub, std::function<void(CLI::App&)> add_options) {
    auto& builders = pending()[&sub];
    if (builders.empty())
        sub.preparse_callback([&sub](std::size_t) {
            auto node = pending().extract(&sub);
            if (node.empty()) return;
            for (auto& add : node.mapped()) add(sub);
        });
    builders.push_back(std::move(add_options));
}

} // namespace cvmlaunch
