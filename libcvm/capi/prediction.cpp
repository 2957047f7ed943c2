// cvm_prediction: the backend's measurement model applied to a plan.
#include <memory>

#include <fmt/format.h>

#include "libcvm/capi/handles.hpp"
#include "libcvm/capi/status.hpp"

using cvm::capi::fail;
using cvm::capi::guarded;

extern "C" {

cvm_status cvm_predict(const cvm_plan* plan, cvm_prediction** out) {
    CVM_REQUIRE(plan);
    CVM_REQUIRE(out);
    return guarded([&] {
        auto prediction = std::make_unique<cvm_prediction>();
        prediction->measurement = plan->backend->predict(plan->plan);
        prediction->algorithm = std::string(cvm::to_string(prediction->measurement.value.algorithm()));
        prediction->hex = prediction->measurement.value.hex();
        for (const auto& r : prediction->measurement.registers) prediction->register_hex.push_back(r.value.hex());
        *out = prediction.release();
    });
}

void cvm_prediction_free(cvm_prediction* prediction) { delete prediction; }

const char* cvm_prediction_technology(const cvm_prediction* prediction) {
    return prediction ? prediction->measurement.technology.c_str() : nullptr;
}

const char* cvm_prediction_algorithm(const cvm_prediction* prediction) {
    return prediction ? prediction->algorithm.c_str() : nullptr;
}

const char* cvm_prediction_hex(const cvm_prediction* prediction) {
    return prediction ? prediction->hex.c_str() : nullptr;
}

size_t cvm_prediction_bytes(const cvm_prediction* prediction, const uint8_t** bytes) {
    if (!prediction) return 0;
    auto value = prediction->measurement.value.bytes();
    if (bytes) *bytes = value.data();
    return value.size();
}

size_t cvm_prediction_register_count(const cvm_prediction* prediction) {
    return prediction ? prediction->measurement.registers.size() : 0;
}

cvm_status cvm_prediction_register(const cvm_prediction* prediction, size_t index, const char** name,
                                   const char** hex) {
    CVM_REQUIRE(prediction);
    if (index >= prediction->measurement.registers.size())
        return fail(CVM_ERR_ARGUMENT, fmt::format("register {} of a prediction with {} registers", index,
                                                  prediction->measurement.registers.size()).c_str());
    if (name) *name = prediction->measurement.registers[index].name.c_str();
    if (hex) *hex = prediction->register_hex[index].c_str();
    return CVM_OK;
}

cvm_status cvm_prediction_to_json(const cvm_prediction* prediction, char** out) {
    CVM_REQUIRE(prediction);
    CVM_REQUIRE(out);
    return guarded([&] { *out = cvm::capi::malloc_copy(prediction->measurement.to_json()); });
}

} // extern "C"
