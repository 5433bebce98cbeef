// The MLP over FANN: creation, RPROP training from memory, and a text format for the weights.
#include "inference/mlp.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <sstream>

// clang-format off
#include <floatfann.h> // the float build of FANN (libfann), before fann.h's declarations
// clang-format on

namespace hive::inference {
namespace {

constexpr size_t max_weights = 100'000;

constexpr std::array<std::pair<activation, fann_activationfunc_enum>, 5> fann_functions{{
  {activation::linear, FANN_LINEAR},
  {activation::sigmoid, FANN_SIGMOID},
  {activation::sigmoid_symmetric, FANN_SIGMOID_SYMMETRIC},
  {activation::gaussian, FANN_GAUSSIAN},
  {activation::elliot, FANN_ELLIOT},
}};

constexpr std::array<std::string_view, 5> names{"linear", "sigmoid", "sigmoid_symmetric",
                                                "gaussian", "elliot"};

fann_activationfunc_enum to_fann(activation a) {
  for (const auto& [ours, theirs] : fann_functions)
    if (ours == a)
      return theirs;
  return FANN_SIGMOID;
}

/// FANN training data owned by a unique_ptr.
struct train_data_deleter {
  void operator()(fann_train_data* d) const { fann_destroy_train(d); }
};
using train_data_ptr = std::unique_ptr<fann_train_data, train_data_deleter>;

result<train_data_ptr> to_fann(const dataset& data, size_t inputs, size_t outputs) {
  if (data.inputs != inputs || data.outputs != outputs)
    return make_error(errc::invalid_field,
                      "the data has " + std::to_string(data.inputs) + " inputs and "
                        + std::to_string(data.outputs) + " outputs per row; the network takes "
                        + std::to_string(inputs) + " and gives " + std::to_string(outputs),
                      "data");
  auto rows = data.rows();
  if (rows == 0 || data.x.size() != rows * inputs || data.y.size() != rows * outputs)
    return make_error(errc::invalid_field, "the data has no complete rows", "data");
  train_data_ptr d{fann_create_train(static_cast<unsigned>(rows), static_cast<unsigned>(inputs),
                                     static_cast<unsigned>(outputs))};
  if (!d)
    return make_error(errc::internal, "cannot allocate the training data");
  for (size_t r = 0; r < rows; ++r) {
    std::copy_n(&data.x[r * inputs], inputs, d->input[r]);
    std::copy_n(&data.y[r * outputs], outputs, d->output[r]);
  }
  return d;
}

} // namespace

std::string_view to_string(activation a) noexcept {
  return names[static_cast<size_t>(a)];
}

bool from_string(std::string_view in, activation& out) noexcept {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == in) {
      out = static_cast<activation>(i);
      return true;
    }
  return false;
}

size_t mlp_weights::expected_weights() const noexcept {
  size_t n = 0;
  for (size_t l = 1; l < layers.size(); ++l)
    n += (size_t{layers[l - 1]} + 1) * layers[l];
  return n;
}

bool mlp_weights::valid() const noexcept {
  if (layers.size() < 2 || std::find(layers.begin(), layers.end(), 0u) != layers.end())
    return false;
  auto steep_ok = [](float k) { return std::isfinite(k) && k > 0; };
  if (!steep_ok(hidden_steepness) || !steep_ok(output_steepness))
    return false;
  if (weights.size() != expected_weights())
    return false;
  return std::all_of(weights.begin(), weights.end(), [](float w) { return std::isfinite(w); });
}

void dataset::add(const std::vector<float>& in, const std::vector<float>& out) {
  x.insert(x.end(), in.begin(), in.end());
  y.insert(y.end(), out.begin(), out.end());
}

mlp::mlp(struct fann* ann, mlp_spec spec) : ann_(ann), spec_(std::move(spec)) {}

mlp::mlp(mlp&& other) noexcept : ann_(other.ann_), spec_(std::move(other.spec_)) {
  other.ann_ = nullptr;
}

mlp& mlp::operator=(mlp&& other) noexcept {
  if (this != &other) {
    if (ann_ != nullptr)
      fann_destroy(ann_);
    ann_ = other.ann_;
    spec_ = std::move(other.spec_);
    other.ann_ = nullptr;
  }
  return *this;
}

mlp::~mlp() {
  if (ann_ != nullptr)
    fann_destroy(ann_);
}

result<mlp> mlp::create(const mlp_spec& spec, uint32_t seed) {
  if (spec.layers.size() < 2)
    return make_error(errc::invalid_field, "a network needs at least an input and an output layer",
                      "layers");
  size_t weights = 0;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    if (spec.layers[i] == 0 || spec.layers[i] > 10'000)
      return make_error(errc::invalid_field, "layer sizes must be 1 to 10000", "layers");
    if (i > 0)
      weights += (spec.layers[i - 1] + 1) * size_t{spec.layers[i]};
  }
  if (weights > max_weights)
    return make_error(errc::invalid_field,
                      "the network would have " + std::to_string(weights)
                        + " weights; at most " + std::to_string(max_weights),
                      "layers");
  struct fann* ann =
    fann_create_standard_array(static_cast<unsigned>(spec.layers.size()), spec.layers.data());
  if (ann == nullptr)
    return make_error(errc::internal, "FANN could not create the network");
  fann_set_activation_function_hidden(ann, to_fann(spec.hidden));
  fann_set_activation_function_output(ann, to_fann(spec.output));
  fann_set_training_algorithm(ann, FANN_TRAIN_RPROP);
  fann_set_learning_rate(ann, spec.learning_rate);
  // Deterministic start: FANN's own randomisation uses rand(); seed our own instead.
  uint32_t state = seed == 0 ? 1 : seed;
  auto n = fann_get_total_connections(ann);
  std::vector<fann_connection> conns(n);
  fann_get_connection_array(ann, conns.data());
  for (auto& c : conns) {
    state = state * 1664525u + 1013904223u; // LCG
    c.weight = (static_cast<float>(state >> 8) / static_cast<float>(1u << 24)) * 0.2f - 0.1f;
  }
  fann_set_weight_array(ann, conns.data(), n);
  return mlp{ann, spec};
}

mlp mlp::copy() const {
  return mlp{fann_copy(ann_), spec_};
}

size_t mlp::inputs() const noexcept {
  return fann_get_num_input(ann_);
}

size_t mlp::outputs() const noexcept {
  return fann_get_num_output(ann_);
}

result<training_report> mlp::train(const dataset& data, unsigned max_epochs, float target_mse) {
  auto d = to_fann(data, inputs(), outputs());
  if (!d)
    return std::move(d).err();
  training_report report;
  for (unsigned e = 0; e < max_epochs; ++e) {
    float err = fann_train_epoch(ann_, d->get());
    if (!std::isfinite(err))
      return make_error(errc::internal, "training diverged (the error is not a number)");
    report.mse.push_back(err);
    report.epochs = e + 1;
    if (err <= target_mse) {
      report.reached_target = true;
      break;
    }
  }
  return report;
}

result<float> mlp::mse(const dataset& data) {
  auto d = to_fann(data, inputs(), outputs());
  if (!d)
    return std::move(d).err();
  return fann_test_data(ann_, d->get());
}

std::vector<float> mlp::run(const float* input) {
  std::vector<float> out(outputs());
  run(input, out.data());
  return out;
}

void mlp::run(const float* input, float* output) {
  // FANN takes a non-const pointer but only reads the input.
  fann_type* out = fann_run(ann_, const_cast<fann_type*>(input));
  std::copy(out, out + outputs(), output);
}

mlp_weights mlp::weights() const {
  mlp_weights w;
  w.layers = spec_.layers;
  w.hidden = spec_.hidden;
  w.output = spec_.output;
  auto last = static_cast<int>(w.layers.size()) - 1;
  // Steepness is per neuron in FANN; mlp never changes it, so the first neuron speaks for its
  // layer. Without a hidden layer, hidden_steepness keeps its default and is not used.
  if (last > 1)
    w.hidden_steepness = fann_get_activation_steepness(ann_, 1, 0);
  w.output_steepness = fann_get_activation_steepness(ann_, last, 0);

  // FANN numbers neurons across all layers, each layer's bias neuron last. Each connection is
  // placed by its two neurons rather than by trusting FANN's order.
  size_t layers = w.layers.size();
  std::vector<size_t> first_neuron(layers), first_weight(layers);
  for (size_t l = 1; l < layers; ++l) {
    first_neuron[l] = first_neuron[l - 1] + w.layers[l - 1] + 1;
    first_weight[l] =
      l == 1 ? 0 : first_weight[l - 1] + (size_t{w.layers[l - 2]} + 1) * w.layers[l - 1];
  }
  w.weights.assign(w.expected_weights(), 0.0f);
  auto n = fann_get_total_connections(ann_);
  std::vector<fann_connection> conns(n);
  fann_get_connection_array(ann_, conns.data());
  for (const auto& c : conns) {
    size_t l = 1;
    while (l + 1 < layers && c.to_neuron >= first_neuron[l + 1])
      ++l;
    size_t j = c.to_neuron - first_neuron[l];
    size_t i = c.from_neuron - first_neuron[l - 1];
    assert(j < w.layers[l] && i <= w.layers[l - 1]);
    w.weights[first_weight[l] + j * (w.layers[l - 1] + 1) + i] = c.weight;
  }
  return w;
}

std::string mlp::serialize() const {
  std::ostringstream text;
  text << "hive-mlp 1\nlayers";
  for (auto n : spec_.layers)
    text << ' ' << n;
  text << "\nhidden " << to_string(spec_.hidden) << "\noutput " << to_string(spec_.output)
       << "\nweights";
  auto n = fann_get_total_connections(ann_);
  std::vector<fann_connection> conns(n);
  fann_get_connection_array(ann_, conns.data());
  char buf[32];
  for (const auto& c : conns) {
    std::snprintf(buf, sizeof buf, " %.9g", static_cast<double>(c.weight)); // exact for float
    text << buf;
  }
  text << '\n';
  return text.str();
}

result<mlp> mlp::deserialize(std::string_view text) {
  std::istringstream in{std::string{text}};
  auto bad = [](const std::string& why) {
    return make_error(errc::invalid_field, "not a saved model: " + why, "model");
  };
  std::string word;
  int version = 0;
  if (!(in >> word >> version) || word != "hive-mlp" || version != 1)
    return bad("unknown header");
  mlp_spec spec;
  std::string line;
  if (!(in >> word) || word != "layers")
    return bad("no layers");
  std::getline(in, line);
  std::istringstream layers{line};
  unsigned n = 0;
  while (layers >> n)
    spec.layers.push_back(n);
  std::string hidden, output;
  if (!(in >> word >> hidden) || word != "hidden" || !from_string(hidden, spec.hidden))
    return bad("bad hidden activation");
  if (!(in >> word >> output) || word != "output" || !from_string(output, spec.output))
    return bad("bad output activation");
  auto net = create(spec);
  if (!net)
    return std::move(net).err();
  if (!(in >> word) || word != "weights")
    return bad("no weights");
  auto total = fann_get_total_connections(net->ann_);
  std::vector<fann_connection> conns(total);
  fann_get_connection_array(net->ann_, conns.data());
  for (auto& c : conns) {
    double w = 0;
    if (!(in >> w) || !std::isfinite(w))
      return bad("expected " + std::to_string(total) + " weights");
    c.weight = static_cast<fann_type>(w);
  }
  if (in >> word)
    return bad("more weights than the layers take");
  fann_set_weight_array(net->ann_, conns.data(), total);
  return net;
}

} // namespace hive::inference
