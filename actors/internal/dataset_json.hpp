// Rows of numbers and datasets from RapidJSON values, shared by the neural library (HTTP
// bodies) and the neural executors (task payloads), so a payload is parsed once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "inference/mlp.hpp"
#include "runtime/error.hpp"

namespace hive::actors::internal {

/// `object[key]`: a non-empty array of rows, every row the same non-zero number of finite
/// single-precision numbers, appended to `out`; returns the row width. At most `budget`
/// numbers (decremented). Errors name `field.key[row]`.
result<size_t> read_rows(const rapidjson::Value& object, const char* key,
                         const std::string& field, std::vector<float>& out, size_t& budget);

/// `{"inputs": [[...]], "outputs": [[...]]}` with as many rows in both.
result<inference::dataset> dataset_from(const rapidjson::Value& value, std::string_view field,
                                        size_t max_values);

} // namespace hive::actors::internal
