// A small multi-layer perceptron on FANN 2.2 (float build): create, train, run, and save to or
// load from text, for the routing model and the neural.* executors.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.hpp"

struct fann; // FANN's network, kept out of this header

namespace hive::inference {

/// The activation functions both the CPU (FANN) and any other implementation must agree on.
enum class activation : uint8_t { linear, sigmoid, sigmoid_symmetric, gaussian, elliot };

std::string_view to_string(activation a) noexcept;
bool from_string(std::string_view in, activation& out) noexcept;

struct mlp_spec {
  std::vector<unsigned> layers; ///< neurons per layer, input first (bias neurons not counted)
  activation hidden = activation::sigmoid_symmetric;
  activation output = activation::sigmoid;
  float learning_rate = 0.7f; ///< RPROP ignores it; kept for the incremental algorithm
};

/// A network's weights as plain data, for evaluators other than FANN (inference/batch_eval.hpp),
/// with everything needed to compute what FANN 2.2's fann_run computes.
///
/// `weights` holds, for each layer l = 1 .. layers.size() - 1, for each neuron j of layer l,
/// `layers[l-1] + 1` values: the weights from neurons 0 .. layers[l-1]-1 of layer l-1, then the
/// bias weight (FANN's bias neuron, always 1, is the last neuron of every layer). So neuron j of
/// layer l starts at offset(l) + j * (layers[l-1] + 1), with offset(1) = 0 and
/// offset(l+1) = offset(l) + layers[l] * (layers[l-1] + 1); this is FANN's connection order.
///
/// A neuron with inputs a (a[layers[l-1]] = 1, the bias) and steepness k (hidden_steepness on
/// hidden layers, output_steepness on the last) computes
///   s = k * sum_i w_i * a_i, clamped to [-150 / k, 150 / k] (FANN's max_sum), then
///   linear s; sigmoid 1 / (1 + exp(-2s)); sigmoid_symmetric 2 / (1 + exp(-2s)) - 1;
///   gaussian exp(-s * s); elliot (s / 2) / (1 + |s|) + 0.5.
/// With FANN's default steepness 0.5, sigmoid is the logistic function of the plain sum.
struct mlp_weights {
  std::vector<unsigned> layers; ///< neurons per layer, input first (bias neurons not counted)
  activation hidden = activation::sigmoid_symmetric;
  activation output = activation::sigmoid;
  float hidden_steepness = 0.5f;
  float output_steepness = 0.5f;
  std::vector<float> weights; ///< in the layout above

  /// How many weights `layers` takes (0 for fewer than two layers).
  size_t expected_weights() const noexcept;
  /// At least two layers, none empty, every weight finite and as many as the layers take,
  /// steepness finite and positive. Evaluators require it.
  bool valid() const noexcept;
};

/// Rows of (input, output) pairs, stored flat.
struct dataset {
  size_t inputs = 0;
  size_t outputs = 0;
  std::vector<float> x; ///< rows() * inputs values
  std::vector<float> y; ///< rows() * outputs values

  size_t rows() const noexcept { return inputs == 0 ? 0 : x.size() / inputs; }
  void add(const std::vector<float>& in, const std::vector<float>& out);
};

struct training_report {
  std::vector<float> mse; ///< after each epoch
  unsigned epochs = 0;
  bool reached_target = false;
};

/// One network. Not thread-safe (FANN's run writes into the network): give each thread its
/// own `copy()`. Movable, not copyable.
class mlp {
public:
  /// Fails with invalid_field for fewer than 2 layers, an empty layer or over 100,000 weights.
  static result<mlp> create(const mlp_spec& spec, uint32_t seed = 42);
  /// Reads what `serialize` wrote; invalid_field naming the problem otherwise.
  static result<mlp> deserialize(std::string_view text);

  mlp(mlp&&) noexcept;
  mlp& operator=(mlp&&) noexcept;
  ~mlp();

  /// A deep copy (for another thread).
  mlp copy() const;

  /// Batch RPROP epochs until the mean squared error is at most `target_mse` or `max_epochs`
  /// ran. The data's sizes must match the network (invalid_field otherwise).
  result<training_report> train(const dataset& data, unsigned max_epochs, float target_mse);
  /// Mean squared error over `data`, without learning.
  result<float> mse(const dataset& data);
  /// The outputs for one input of `inputs()` values.
  std::vector<float> run(const float* input);
  /// The same into `output` (outputs() values), without allocating.
  void run(const float* input, float* output);

  size_t inputs() const noexcept;
  size_t outputs() const noexcept;
  const mlp_spec& spec() const noexcept { return spec_; }
  /// Layers, activations, steepness and every weight, for another evaluator (a copy).
  mlp_weights weights() const;

  /// Layers, activations and every weight, as text that round-trips exactly.
  std::string serialize() const;

private:
  mlp(struct fann* ann, mlp_spec spec);
  struct fann* ann_ = nullptr;
  mlp_spec spec_;
};

} // namespace hive::inference
