// What the opaque handles of cvm.h hold. Each keeps the strings it hands out
// as `const char *`, so they live exactly as long as the handle.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cvm/backend.hpp"
#include "cvm/cvm.h"

struct cvm_spec {
    cvm::VmSpec spec;
};

struct cvm_plan {
    const cvm::Backend* backend;
    cvm::LaunchPlan plan;

    struct Event {
        std::string kind;
        std::string description;
        std::string digest_hex;
    };
    // The backend's events, computed on first use: they hash every payload.
    std::once_flag events_once;
    std::vector<Event> events;
};

struct cvm_prediction {
    cvm::Measurement measurement;
    std::string algorithm;
    std::string hex;
    std::vector<std::string> register_hex;
};

struct cvm_launch {
    cvm::RunOptions options;
    // Set by cvm_launch_interrupt; lock-free, so a signal handler may set it.
    // An int: a word-sized atomic is lock-free on every target (a bool is not on riscv64 GCC 12).
    std::atomic<int> interrupt{0};
    int vm_fd = -1;
    unsigned long vm_type = 0;
    std::optional<cvm::RunResult> result;
};
