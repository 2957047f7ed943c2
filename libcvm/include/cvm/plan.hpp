// LaunchPlan: the ordered list of neutral operations a launch performs.
//
// The plan is the single source of truth read by every consumer: the launcher
// turns it into KVM ioctls, the predictor into the expected measurement, the
// event log into records. Because they read the same plan, a prediction can only
// disagree with the hardware if the measurement model is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cvm/bytes.hpp"
#include "cvm/digest.hpp"

namespace cvm {

namespace op {

// Create and configure the VM. `params` are the technology settings that
// enter the measurement (algorithm, policy, personalization value, ...).
struct CreateVm {
    std::vector<std::pair<std::string, std::string>> params;
};

// Back [gpa, gpa+size) with guest RAM. `confidential` marks private memory
// (RIPAS RAM on CCA, encrypted on SEV); ordinary KVM ignores it.
struct AddMemory {
    std::uint64_t gpa = 0;
    std::uint64_t size = 0;
    bool confidential = false;
    std::string label;
};

// Copy `data` to `gpa`. `measured` says whether its contents enter the
// launch measurement. `page_type` is a technology's page kind where the
// hardware distinguishes them (SEV-SNP "zero", "secrets", "cpuid", "vmsa";
// empty for ordinary data); it is part of what is measured.
struct LoadData {
    std::uint64_t gpa = 0;
    Payload data;
    bool measured = true;
    std::string label;
    std::string page_type;
};

// Create `count` vCPUs with ids 0..count-1; vCPU 0 boots.
struct CreateVcpus {
    unsigned count = 1;
};

struct Register {
    std::string name;
    std::uint64_t value = 0;
};

// Initial register state of one vCPU, in the architecture's register names.
struct SetRegisters {
    unsigned vcpu = 0;
    std::vector<Register> registers;
};

// Seal the initial state and start running.
struct Finalize {};

} // namespace op

using Operation = std::variant<op::CreateVm, op::AddMemory, op::LoadData, op::CreateVcpus,
                               op::SetRegisters, op::Finalize>;

// Short kebab-case name of an operation ("load-data", ...).
std::string_view operation_name(const Operation& operation);

class LaunchPlan {
public:
    LaunchPlan(std::string technology, HashAlgorithm algorithm);

    const std::string& technology() const noexcept { return technology_; }
    HashAlgorithm algorithm() const noexcept { return algorithm_; }
    const std::vector<Operation>& operations() const noexcept { return operations_; }

    void add(Operation operation) { operations_.push_back(std::move(operation)); }

    // Throws if a load lies outside the memory the plan adds, or two loads
    // overlap: a plan must never silently overwrite its own bytes.
    void check_layout() const;

    // One line per operation, for people.
    std::string to_text() const;
    // {"technology":..., "algorithm":..., "operations":[...]}; loaded data is
    // described by GPA, size and SHA-256 of its bytes, never the bytes.
    std::string to_json() const;

private:
    std::string technology_;
    HashAlgorithm algorithm_;
    std::vector<Operation> operations_;
};

} // namespace cvm
