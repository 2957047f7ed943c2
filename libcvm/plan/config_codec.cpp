#include "libcvm/plan/config_codec.hpp"

#include "cvm/digest.hpp"
#include "cvm/spec.hpp"

namespace cvm {

std::string ConfigWriter::format_number(std::uint64_t value, Radix radix) {
    return radix == Radix::hex ? fmt::format("{:#x}", value) : fmt::format("{}", value);
}

void ConfigWriter::bytes(std::string_view name, ByteSpan value) { put(name, to_hex(value)); }

const ConfigField& ConfigReader::next(std::string_view name) {
    if (index_ == fields_.size()) refuse(name, "the field", "the end of the configuration");
    const ConfigField& field = fields_[index_];
    if (field.name != name) refuse(name, "the field", fmt::format("field '{}'", field.name));
    ++index_;
    return field;
}

void ConfigReader::constant(std::string_view name, std::string_view value) {
    const ConfigField& field = next(name);
    if (field.value != value) refuse(name, value, field.value);
}

void ConfigReader::bytes(std::string_view name, std::vector<std::uint8_t>& value) {
    const ConfigField& field = next(name);
    value = from_hex(field.value, fmt::format("{} field {}", what_, name));
    if (to_hex(ByteSpan(value)) != field.value) refuse(name, "lower-case hex", field.value);
}

std::uint64_t ConfigReader::read_number(std::string_view name, std::uint64_t max, Radix radix) {
    const ConfigField& field = next(name);
    std::uint64_t n = parse_unsigned(field.value, fmt::format("{} field {}", what_, name), 0, max);
    // One text per value: "048" or "0x30" where "48" is written would hash
    // differently while meaning the same.
    std::string canonical = ConfigWriter::format_number(n, radix);
    if (canonical != field.value) refuse(name, canonical, field.value);
    return n;
}

void ConfigReader::finish() const {
    if (index_ != fields_.size())
        throw Error(fmt::format("{}: field '{}' is not part of the configuration", what_, fields_[index_].name));
}

void ConfigReader::refuse(std::string_view name, std::string_view expected, std::string_view found) const {
    throw Error(fmt::format("{}: field {}: expected {}, found {}", what_, name, expected,
                            found.empty() ? "nothing" : found));
}

} // namespace cvm
