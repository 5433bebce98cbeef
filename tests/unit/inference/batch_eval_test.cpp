// Batch evaluation: mlp::weights() describes the FANN network, the reference row function
// computes what FANN computes, batches equal rows one at a time, and the GPU evaluator (where a
// GPU is there) agrees with the reference.
#include "inference/batch_eval.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "build_config.hpp"

using namespace hive;
using namespace hive::inference;

namespace {

constexpr activation all_activations[] = {activation::linear, activation::sigmoid,
                                           activation::sigmoid_symmetric, activation::gaussian,
                                           activation::elliot};

size_t weight_count(const std::vector<unsigned>& layers) {
  mlp_weights w;
  w.layers = layers;
  return w.expected_weights();
}

/// A network with weights drawn from [-scale, scale], built through the saved-model text (the
/// only way to give mlp chosen weights). The weights go in FANN's connection order.
result<mlp> random_net(const std::vector<unsigned>& layers, activation hidden, activation output,
                       float scale, std::mt19937& rng, std::vector<float>* weights = nullptr) {
  std::uniform_real_distribution<float> u{-scale, scale};
  std::string text = "hive-mlp 1\nlayers";
  for (auto n : layers)
    text += ' ' + std::to_string(n);
  text += "\nhidden " + std::string{to_string(hidden)} + "\noutput "
          + std::string{to_string(output)} + "\nweights";
  char buf[32];
  for (size_t i = 0, n = weight_count(layers); i < n; ++i) {
    float w = u(rng);
    if (weights != nullptr)
      weights->push_back(w);
    std::snprintf(buf, sizeof buf, " %.9g", static_cast<double>(w));
    text += buf;
  }
  return mlp::deserialize(text + "\n");
}

std::vector<float> random_rows(size_t rows, size_t width, std::mt19937& rng) {
  std::uniform_real_distribution<float> u{-1.0f, 1.0f};
  std::vector<float> x(rows * width);
  for (auto& v : x)
    v = u(rng);
  return x;
}

/// |a - b| <= tolerance, relative for values over 1 (linear outputs can be large).
::testing::AssertionResult close(float a, float b, float tolerance) {
  if (std::fabs(a - b) <= tolerance * std::max(1.0f, std::fabs(b)))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " vs " << b << " (difference " << a - b << ")";
}

/// The reference against FANN's own mlp::run on `rows` random inputs.
void expect_reference_matches_fann(mlp& net, size_t rows, std::mt19937& rng) {
  auto w = net.weights();
  ASSERT_TRUE(w.valid());
  auto x = random_rows(rows, net.inputs(), rng);
  std::vector<float> out(net.outputs()), scratch;
  for (size_t r = 0; r < rows; ++r) {
    const float* in = &x[r * net.inputs()];
    auto want = net.run(in);
    reference_row(w, in, out.data(), scratch);
    for (size_t k = 0; k < out.size(); ++k)
      ASSERT_TRUE(close(out[k], want[k], 1e-6f)) << "row " << r << " output " << k;
  }
}

} // namespace

TEST(MlpWeights, DescribeTheNetworkInFannsConnectionOrder) {
  std::mt19937 rng{1};
  std::vector<float> written;
  auto net = random_net({30, 10, 2}, activation::sigmoid_symmetric, activation::sigmoid, 1.0f, rng,
                        &written);
  ASSERT_TRUE(net) << net.err().message;
  auto w = net->weights();
  EXPECT_EQ(w.layers, (std::vector<unsigned>{30, 10, 2}));
  EXPECT_EQ(w.hidden, activation::sigmoid_symmetric);
  EXPECT_EQ(w.output, activation::sigmoid);
  EXPECT_EQ(w.hidden_steepness, 0.5f); // FANN's default
  EXPECT_EQ(w.output_steepness, 0.5f);
  EXPECT_EQ(w.weights.size(), size_t{31 * 10 + 11 * 2});
  EXPECT_EQ(w.weights, written);
  EXPECT_TRUE(w.valid());
}

TEST(MlpWeights, ValidRefusesWhatNoEvaluatorCanRun) {
  auto net = mlp::create(mlp_spec{{4, 3, 2}});
  ASSERT_TRUE(net);
  auto good = net->weights();
  ASSERT_TRUE(good.valid());
  auto short_one = good;
  short_one.weights.pop_back();
  EXPECT_FALSE(short_one.valid());
  auto nan = good;
  nan.weights[3] = std::nanf("");
  EXPECT_FALSE(nan.valid());
  auto flat = good;
  flat.output_steepness = 0;
  EXPECT_FALSE(flat.valid());
  auto one_layer = good;
  one_layer.layers = {4};
  one_layer.weights.clear();
  EXPECT_FALSE(one_layer.valid());
}

TEST(ReferenceRow, MatchesFannForEveryActivationAndShape) {
  std::mt19937 rng{2};
  const std::vector<std::vector<unsigned>> shapes{{3, 2}, {5, 4, 1}, {30, 10, 2}, {7, 9, 6, 3}};
  for (const auto& shape : shapes)
    for (auto hidden : all_activations)
      for (auto output : all_activations) {
        SCOPED_TRACE(std::to_string(shape.size()) + " layers, hidden "
                     + std::string{to_string(hidden)} + ", output "
                     + std::string{to_string(output)});
        auto net = random_net(shape, hidden, output, 2.0f, rng);
        ASSERT_TRUE(net) << net.err().message;
        expect_reference_matches_fann(*net, 50, rng);
      }
}

TEST(ReferenceRow, MatchesFannAfterTraining) {
  std::mt19937 rng{3};
  for (auto hidden : all_activations) {
    SCOPED_TRACE(to_string(hidden));
    auto net = mlp::create(mlp_spec{{6, 8, 2}, hidden, activation::sigmoid});
    ASSERT_TRUE(net);
    dataset data;
    data.inputs = 6;
    data.outputs = 2;
    auto x = random_rows(200, 6, rng);
    for (size_t r = 0; r < 200; ++r) {
      std::vector<float> in(x.begin() + r * 6, x.begin() + r * 6 + 6);
      float s = in[0] + in[1] * in[2] - in[3];
      data.add(in, {s > 0 ? 1.0f : 0.0f, std::fabs(in[4] - in[5]) / 2});
    }
    auto before = net->weights();
    auto report = net->train(data, 20, 0.0f);
    ASSERT_TRUE(report) << report.err().message;
    EXPECT_NE(net->weights().weights, before.weights);
    expect_reference_matches_fann(*net, 200, rng);
  }
}

TEST(ReferenceRow, ClampsTheSumAsFannDoes) {
  // One weight of 1000: steepness 0.5 makes the sum 500, over FANN's bound of 150 / 0.5.
  auto net = mlp::deserialize(
    "hive-mlp 1\nlayers 1 1\nhidden linear\noutput linear\nweights 1000 0\n");
  ASSERT_TRUE(net) << net.err().message;
  float in = 1, out = 0;
  std::vector<float> scratch;
  reference_row(net->weights(), &in, &out, scratch);
  EXPECT_EQ(out, 300.0f);
  EXPECT_EQ(net->run(&in)[0], 300.0f);
}

TEST(CpuEvaluator, ABatchEqualsRowsOneAtATime) {
  std::mt19937 rng{4};
  auto net = random_net({30, 10, 2}, activation::sigmoid_symmetric, activation::sigmoid, 1.0f, rng);
  ASSERT_TRUE(net);
  auto w = net->weights();
  auto eval = make_cpu_evaluator(w);
  EXPECT_EQ(eval->device(), "CPU");
  EXPECT_EQ(eval->inputs(), 30u);
  EXPECT_EQ(eval->outputs(), 2u);
  const size_t rows = 1000;
  auto x = random_rows(rows, 30, rng);
  std::vector<float> batch(rows * 2, -7.0f);
  ASSERT_TRUE(eval->run(x.data(), rows, batch.data()));
  std::vector<float> one(2), scratch;
  for (size_t r = 0; r < rows; ++r) {
    reference_row(w, &x[r * 30], one.data(), scratch);
    ASSERT_EQ(batch[r * 2], one[0]) << "row " << r;
    ASSERT_EQ(batch[r * 2 + 1], one[1]) << "row " << r;
  }
  EXPECT_TRUE(eval->run(x.data(), 0, batch.data())); // nothing to do
}

TEST(GpuProbe, AnswersWithoutCrashingAndExplainsAMissingGpu) {
  auto probe = probe_gpu();
  EXPECT_EQ(probe.built, HIVE_ENABLE_CUDA == 1);
  EXPECT_FALSE(probe.description.empty());
  auto again = probe_gpu();
  EXPECT_EQ(again.usable, probe.usable);
  EXPECT_EQ(again.description, probe.description);
  auto net = mlp::create(mlp_spec{{3, 4, 2}});
  ASSERT_TRUE(net);
  auto gpu = make_gpu_evaluator(net->weights());
  if (probe.usable) {
    ASSERT_TRUE(gpu) << gpu.err().message;
    EXPECT_EQ((*gpu)->device(), "GPU (" + probe.description + ")");
  } else {
    ASSERT_FALSE(gpu);
    EXPECT_EQ(gpu.err().code, errc::illegal_state);
    EXPECT_NE(gpu.err().message.find(probe.description), std::string::npos) << gpu.err().message;
  }
}

TEST(GpuEvaluator, RefusesWeightsItCannotRun) {
  mlp_weights broken;
  broken.layers = {3, 2};
  auto a = make_gpu_evaluator(broken); // no weights at all
  ASSERT_FALSE(a);
  EXPECT_EQ(a.err().code, errc::invalid_field);
  mlp_weights wide;
  wide.layers = {gpu_max_layer_width + 1, 2};
  wide.weights.assign(wide.expected_weights(), 0.1f);
  auto b = make_gpu_evaluator(wide);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.err().code, errc::invalid_field);
  EXPECT_EQ(b.err().field, "layers");
}

TEST(GpuEvaluator, AgreesWithTheReferenceForEveryActivation) {
  auto probe = probe_gpu();
  if (!probe.usable)
    GTEST_SKIP() << "no usable GPU: " << probe.description;
  std::mt19937 rng{5};
  const std::vector<std::vector<unsigned>> shapes{{30, 10, 2}, {64, 64, 64, 8}, {5, 256, 3}};
  const size_t rows = 10'000;
  for (const auto& shape : shapes)
    for (auto f : all_activations) {
      SCOPED_TRACE(std::to_string(shape.front()) + " inputs, " + std::string{to_string(f)});
      auto net = random_net(shape, f, f, 1.0f, rng);
      ASSERT_TRUE(net) << net.err().message;
      auto w = net->weights();
      auto gpu = make_gpu_evaluator(w);
      ASSERT_TRUE(gpu) << gpu.err().message;
      auto cpu = make_cpu_evaluator(w);
      auto x = random_rows(rows, shape.front(), rng);
      std::vector<float> want(rows * shape.back()), got(rows * shape.back(), -7.0f);
      ASSERT_TRUE(cpu->run(x.data(), rows, want.data()));
      ASSERT_TRUE((*gpu)->run(x.data(), rows, got.data()));
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_TRUE(close(got[i], want[i], 1e-5f)) << "value " << i;
      // A smaller batch afterwards reuses the device buffers.
      std::fill(got.begin(), got.end(), -7.0f);
      ASSERT_TRUE((*gpu)->run(x.data(), 3, got.data()));
      for (size_t i = 0; i < 3 * shape.back(); ++i)
        ASSERT_TRUE(close(got[i], want[i], 1e-5f)) << "value " << i;
      EXPECT_EQ(got[3 * shape.back()], -7.0f);
    }
}
