// Named networks and datasets kept in the store: their names, their JSON forms, and the
// neural.train / neural.predict executors that use them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "inference/mlp.hpp"
#include "persistence/store.hpp"
#include "runtime/error.hpp"

namespace hive::actors {

class executor_registry;

/// Store kinds (persistence::stored_object::kind).
inline constexpr std::string_view model_kind = "model";
inline constexpr std::string_view dataset_kind = "dataset";
/// Names starting with this belong to Hive itself (the routing network is "hive.routing").
inline constexpr std::string_view reserved_prefix = "hive.";

/// Model and dataset names: 1 to 128 characters of letters, digits, '.', '_' and '-'.
/// `field` names the offending field in the error. Names in the reserved prefix are refused
/// unless `allow_reserved` (reading Hive's own model is allowed, overwriting it is not).
result<unit_t> check_object_name(std::string_view name, std::string_view field,
                                 bool allow_reserved = false);

/// The JSON form of a dataset, `{"inputs": [[...], ...], "outputs": [[...], ...]}`: as many
/// rows in both, every row of one array the same length, finite numbers, at most
/// `max_values` numbers in all. Errors name the offending field under `field`.
result<inference::dataset> decode_dataset(std::string_view json, std::string_view field,
                                          size_t max_values = 10'000'000);
std::string encode_dataset(const inference::dataset& data);
/// `{"rows":R,"inputs":I,"outputs":O}`: what listings show of a dataset.
std::string dataset_meta(const inference::dataset& data);

/// Whether `neural.mode` puts networks on the GPU: cuda or auto, and a usable GPU
/// (inference::probe_gpu()).
bool gpu_enabled(std::string_view mode);

/// Registers `neural.train` and `neural.predict` (see docs/api.md), which read and write
/// models and datasets in `db`. With `gpu`, predictions of at least `gpu_batch_min` rows run
/// on the GPU. `db` must outlive the registry's executors.
void register_neural_executors(executor_registry& registry, persistence::store& db,
                               bool gpu = false, size_t gpu_batch_min = 256);

} // namespace hive::actors
