// The one codec of a backend's VM configuration (cvm::VmConfig).
//
// A configuration type lists its fields once, in a template both directions
// run:
//   template <class Codec, class Self> static void describe(Codec& codec, Self& config);
// ConfigWriter turns the typed value into named text fields; ConfigReader
// turns fields back into the typed value and refuses anything else: a
// missing, extra, reordered or unknown field, a number out of its type's
// range, or a value not written the way the writer writes it (so a
// configuration has exactly one text form, and the measurement of that text
// has exactly one meaning).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "cvm/error.hpp"
#include "cvm/plan.hpp"

namespace cvm {

enum class Radix { decimal, hex };

// One spelling of an enumerated setting.
template <class E>
struct Choice {
    E value;
    std::string_view name;
};

class ConfigWriter {
public:
    template <class T>
    void number(std::string_view name, const T& value, Radix radix = Radix::decimal) {
        static_assert(std::is_unsigned_v<T>);
        put(name, format_number(value, radix));
    }
    template <class T>
    void optional_number(std::string_view name, const std::optional<T>& value, Radix radix = Radix::decimal) {
        if (value) number(name, *value, radix);
    }
    void text(std::string_view name, const std::string& value) { put(name, value); }
    // A field whose value is fixed (the architecture a configuration is for).
    void constant(std::string_view name, std::string_view value) { put(name, std::string(value)); }
    void bytes(std::string_view name, ByteSpan value);
    template <std::size_t N>
    void bytes(std::string_view name, const std::array<std::uint8_t, N>& value) { bytes(name, ByteSpan(value)); }
    // Omitted when empty.
    void optional_bytes(std::string_view name, const std::vector<std::uint8_t>& value) {
        if (!value.empty()) bytes(name, ByteSpan(value));
    }
    template <class E, std::size_t N>
    void choice(std::string_view name, const E& value, const Choice<E> (&names)[N]) {
        for (const auto& c : names)
            if (c.value == value) return put(name, std::string(c.name));
        throw Error(fmt::format("configuration field {} holds a value with no name", name));
    }

    std::vector<ConfigField> fields;

    static std::string format_number(std::uint64_t value, Radix radix);

private:
    void put(std::string_view name, std::string value) { fields.push_back({std::string(name), std::move(value)}); }
};

class ConfigReader {
public:
    // `what` names the configuration in errors ("the amd-sev plan's create-vm").
    ConfigReader(std::span<const ConfigField> fields, std::string what) : fields_(fields), what_(std::move(what)) {}

    template <class T>
    void number(std::string_view name, T& value, Radix radix = Radix::decimal) {
        static_assert(std::is_unsigned_v<T>);
        value = static_cast<T>(read_number(name, std::numeric_limits<T>::max(), radix));
    }
    template <class T>
    void optional_number(std::string_view name, std::optional<T>& value, Radix radix = Radix::decimal) {
        value.reset();
        if (!next_is(name)) return;
        T n{};
        number(name, n, radix);
        value = n;
    }
    void text(std::string_view name, std::string& value) { value = next(name).value; }
    void constant(std::string_view name, std::string_view value);
    void bytes(std::string_view name, std::vector<std::uint8_t>& value);
    template <std::size_t N>
    void bytes(std::string_view name, std::array<std::uint8_t, N>& value) {
        std::vector<std::uint8_t> v;
        bytes(name, v);
        if (v.size() != N) refuse(name, fmt::format("{} bytes", N), fmt::format("{} bytes", v.size()));
        std::copy(v.begin(), v.end(), value.begin());
    }
    void optional_bytes(std::string_view name, std::vector<std::uint8_t>& value) {
        value.clear();
        if (next_is(name)) bytes(name, value);
    }
    template <class E, std::size_t N>
    void choice(std::string_view name, E& value, const Choice<E> (&names)[N]) {
        const ConfigField& field = next(name);
        std::string known;
        for (const auto& c : names) {
            if (c.name == field.value) {
                value = c.value;
                return;
            }
            known += fmt::format("{}{}", known.empty() ? "" : ", ", c.name);
        }
        refuse(name, "one of " + known, field.value);
    }
    // Refuses fields left unread.
    void finish() const;

private:
    bool next_is(std::string_view name) const { return index_ < fields_.size() && fields_[index_].name == name; }
    const ConfigField& next(std::string_view name);
    std::uint64_t read_number(std::string_view name, std::uint64_t max, Radix radix);
    [[noreturn]] void refuse(std::string_view name, std::string_view expected, std::string_view found) const;

    std::span<const ConfigField> fields_;
    std::size_t index_ = 0;
    std::string what_;
};

// Fields of a configuration type with a static describe().
template <class Config>
std::vector<ConfigField> encode_config(const Config& config) {
    ConfigWriter writer;
    Config::describe(writer, config);
    return std::move(writer.fields);
}

// The configuration `fields` describe, read strictly.
template <class Config>
std::shared_ptr<const Config> decode_config(std::span<const ConfigField> fields, std::string what) {
    auto config = std::make_shared<Config>();
    ConfigReader reader(fields, std::move(what));
    Config::describe(reader, *config);
    reader.finish();
    return config;
}

// The configuration of type Config a create-vm carries; throws naming
// `who` if it carries none or another backend's.
template <class Config>
const Config& config_as(const op::CreateVm& create, std::string_view who) {
    const auto* config = dynamic_cast<const Config*>(create.config.get());
    if (!config) throw Error(fmt::format("{}: the plan's create-vm carries no configuration of this backend", who));
    return *config;
}

} // namespace cvm
