// Evaluating an MLP on many rows at once: the plain C++ reference (the CPU evaluator) and, in
// builds with CUDA, a GPU evaluator that agrees with it. Both take an mlp_weights (mlp.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "inference/mlp.hpp"
#include "runtime/error.hpp"

namespace hive::inference {

/// One network evaluated on batches of rows. Not thread-safe: `run` uses buffers the evaluator
/// owns, so each thread creates its own evaluator (creating one is cheap next to a batch).
class batch_evaluator {
public:
  virtual ~batch_evaluator() = default;
  /// "CPU" or "GPU (<device name>)".
  virtual std::string device() const = 0;
  /// Evaluates `rows` rows: reads rows * inputs() values from `inputs` and writes
  /// rows * outputs() values to `outputs`, both row-major. Nothing happens for 0 rows.
  /// The CPU evaluator cannot fail; the GPU one reports a failed CUDA call as `internal`.
  virtual result<unit_t> run(const float* inputs, size_t rows, float* outputs) = 0;
  virtual size_t inputs() const = 0;
  virtual size_t outputs() const = 0;
};

/// The reference implementation, one row: exactly what FANN 2.2's fann_run computes (the same
/// summation order and clamp, exp evaluated in double as FANN's macros do), so it matches
/// mlp::run to the last bit or close to it. Reads `w.layers.front()` inputs, writes
/// `w.layers.back()` outputs; `scratch` is working memory, reused between calls.
/// Precondition: `w.valid()`.
void reference_row(const mlp_weights& w, const float* input, float* output,
                   std::vector<float>& scratch);

/// The CPU evaluator: reference_row on each row, in the caller's thread. Precondition:
/// `w.valid()` (mlp::weights() always is).
std::unique_ptr<batch_evaluator> make_cpu_evaluator(const mlp_weights& w);

/// The GPU evaluator's limits on the network's shape (layers counted with the input layer).
inline constexpr size_t gpu_max_layers = 16;
inline constexpr unsigned gpu_max_layer_width = 256;

/// Whether this build has the CUDA path and this machine a device it can run on.
struct gpu_probe {
  bool built = false;  ///< compiled with HIVE_ENABLE_CUDA
  bool usable = false; ///< a device is there and runs our kernel
  /// The device's name when usable; otherwise why not ("built without CUDA",
  /// "no CUDA device: <CUDA's error string>", ...).
  std::string description;
};

/// Looks once (the first call initialises CUDA, which can take a second) and returns the same
/// answer afterwards. Safe from any thread.
gpu_probe probe_gpu();

/// A GPU evaluator for `w`, its weights uploaded once to device 0. Fails with invalid_field
/// for weights that are not valid() or a shape over the GPU limits, with illegal_state when
/// the build has no CUDA or the machine no usable device (the message says which), and with
/// internal when CUDA refuses the memory. Agrees with reference_row within 1e-5 (the GPU
/// evaluates exp in float: expf).
result<std::unique_ptr<batch_evaluator>> make_gpu_evaluator(const mlp_weights& w);

} // namespace hive::inference
