// The reference evaluator (plain loops, FANN's arithmetic) and the choice of the GPU path.
#include "inference/batch_eval.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "build_config.hpp"
#if HIVE_ENABLE_CUDA
#include "inference/cuda/mlp_kernels.hpp"
#endif

namespace hive::inference {
namespace {

/// FANN's summation order (floatfann's fann_run): the first n % 4 terms from the highest index
/// down, then four at a time, each four summed before they are added. Same order, same roundings.
float fann_dot(const float* w, const float* a, size_t n) {
  size_t i = n & 3;
  float sum = 0;
  switch (i) {
    case 3: sum += w[2] * a[2]; [[fallthrough]];
    case 2: sum += w[1] * a[1]; [[fallthrough]];
    case 1: sum += w[0] * a[0]; [[fallthrough]];
    default: break;
  }
  for (; i != n; i += 4)
    sum += w[i] * a[i] + w[i + 1] * a[i + 1] + w[i + 2] * a[i + 2] + w[i + 3] * a[i + 3];
  return sum;
}

/// FANN's activation macros take the steepness-scaled sum. They call C's exp, which works in
/// double, and round the result to float; so does this.
float activate(activation f, float s) {
  switch (f) {
    case activation::linear: return s;
    case activation::sigmoid:
      return static_cast<float>(1.0f / (1.0f + std::exp(double{-2.0f * s})));
    case activation::sigmoid_symmetric:
      return static_cast<float>(2.0f / (1.0f + std::exp(double{-2.0f * s})) - 1.0f);
    case activation::gaussian: return static_cast<float>(std::exp(double{-s * s}));
    case activation::elliot: return (s / 2.0f) / (1.0f + std::fabs(s)) + 0.5f;
  }
  return s;
}

class cpu_evaluator final : public batch_evaluator {
public:
  explicit cpu_evaluator(mlp_weights w) : w_(std::move(w)) {}

  std::string device() const override { return "CPU"; }
  size_t inputs() const override { return w_.layers.front(); }
  size_t outputs() const override { return w_.layers.back(); }

  result<unit_t> run(const float* in, size_t rows, float* out) override {
    size_t n_in = inputs(), n_out = outputs();
    for (size_t r = 0; r < rows; ++r)
      reference_row(w_, in + r * n_in, out + r * n_out, scratch_);
    return unit;
  }

private:
  mlp_weights w_;
  std::vector<float> scratch_;
};

} // namespace

void reference_row(const mlp_weights& w, const float* input, float* output,
                   std::vector<float>& scratch) {
  assert(w.layers.size() >= 2 && w.weights.size() == w.expected_weights());
  size_t widest = *std::max_element(w.layers.begin(), w.layers.end());
  scratch.resize(2 * (widest + 1));
  // Two buffers of one layer's values each, plus FANN's bias neuron (1) after the last value.
  float* a = scratch.data();
  float* b = a + widest + 1;
  std::copy_n(input, w.layers[0], a);
  a[w.layers[0]] = 1.0f;
  const float* weight = w.weights.data();
  for (size_t l = 1; l < w.layers.size(); ++l) {
    bool last = l + 1 == w.layers.size();
    activation f = last ? w.output : w.hidden;
    float k = last ? w.output_steepness : w.hidden_steepness;
    float max_sum = 150 / k; // FANN keeps exp away from overflow this way
    size_t n_in = w.layers[l - 1] + size_t{1};
    for (size_t j = 0; j < w.layers[l]; ++j, weight += n_in) {
      float s = k * fann_dot(weight, a, n_in);
      s = std::clamp(s, -max_sum, max_sum);
      b[j] = activate(f, s);
    }
    b[w.layers[l]] = 1.0f;
    std::swap(a, b);
  }
  std::copy_n(a, w.layers.back(), output);
}

std::unique_ptr<batch_evaluator> make_cpu_evaluator(const mlp_weights& w) {
  assert(w.valid());
  return std::make_unique<cpu_evaluator>(w);
}

gpu_probe probe_gpu() {
#if HIVE_ENABLE_CUDA
  static const gpu_probe cached = cuda::probe();
  return cached;
#else
  return gpu_probe{false, false, "built without CUDA"};
#endif
}

result<std::unique_ptr<batch_evaluator>> make_gpu_evaluator(const mlp_weights& w) {
  if (!w.valid())
    return make_error(errc::invalid_field,
                      "the weights do not describe a network (see mlp_weights::valid)", "weights");
  if (w.layers.size() > gpu_max_layers
      || *std::max_element(w.layers.begin(), w.layers.end()) > gpu_max_layer_width)
    return make_error(errc::invalid_field,
                      "the GPU evaluator takes at most " + std::to_string(gpu_max_layers)
                        + " layers of at most " + std::to_string(gpu_max_layer_width) + " neurons",
                      "layers");
  auto probe = probe_gpu();
  if (!probe.usable)
    return make_error(errc::illegal_state, "no usable GPU: " + probe.description);
#if HIVE_ENABLE_CUDA
  return cuda::make_evaluator(w, probe.description);
#else
  return make_error(errc::internal, "a usable GPU in a build without CUDA"); // cannot happen
#endif
}

} // namespace hive::inference
