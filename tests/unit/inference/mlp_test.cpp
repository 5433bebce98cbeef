// The FANN MLP: it learns a known function, its text form round-trips exactly, copies are
// independent, and bad shapes or texts are refused with a clear error.
#include "inference/mlp.hpp"

#include <cmath>
#include <thread>

#include <gtest/gtest.h>

using namespace hive;
using namespace hive::inference;

namespace {

dataset xor_data() {
  dataset d;
  d.inputs = 2;
  d.outputs = 1;
  for (float a : {0.0f, 1.0f})
    for (float b : {0.0f, 1.0f})
      d.add({a, b}, {(a != b) ? 1.0f : 0.0f});
  return d;
}

mlp_spec xor_spec() {
  mlp_spec s;
  s.layers = {2, 6, 1};
  s.hidden = activation::sigmoid_symmetric;
  s.output = activation::sigmoid;
  return s;
}

} // namespace

TEST(Mlp, TrainingReducesTheErrorUntilXorIsLearned) {
  auto net = mlp::create(xor_spec());
  ASSERT_TRUE(net) << net.err().message;
  auto before = net->mse(xor_data());
  ASSERT_TRUE(before);
  auto report = net->train(xor_data(), 2000, 0.001f);
  ASSERT_TRUE(report) << report.err().message;
  EXPECT_TRUE(report->reached_target) << "after " << report->epochs << " epochs";
  EXPECT_LT(report->mse.back(), *before);
  EXPECT_EQ(report->mse.size(), report->epochs);
  float in[2] = {1, 0};
  EXPECT_GT(net->run(in)[0], 0.9f);
  float in2[2] = {1, 1};
  EXPECT_LT(net->run(in2)[0], 0.1f);
}

TEST(Mlp, SameSeedSameNetwork) {
  auto a = mlp::create(xor_spec(), 7);
  auto b = mlp::create(xor_spec(), 7);
  auto c = mlp::create(xor_spec(), 8);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->serialize(), b->serialize());
  EXPECT_NE(a->serialize(), c->serialize());
}

TEST(Mlp, SavedTextRoundTripsExactly) {
  auto net = mlp::create(xor_spec());
  ASSERT_TRUE(net);
  ASSERT_TRUE(net->train(xor_data(), 300, 0.0f));
  auto text = net->serialize();
  auto back = mlp::deserialize(text);
  ASSERT_TRUE(back) << back.err().message;
  EXPECT_EQ(back->serialize(), text);
  for (float a : {0.0f, 0.3f, 1.0f}) {
    float in[2] = {a, 1 - a};
    EXPECT_EQ(net->run(in), back->run(in));
  }
  EXPECT_EQ(back->spec().layers, (std::vector<unsigned>{2, 6, 1}));
}

TEST(Mlp, CopiesRunOnTheirOwnThreads) {
  auto net = mlp::create(xor_spec());
  ASSERT_TRUE(net);
  ASSERT_TRUE(net->train(xor_data(), 500, 0.001f));
  float in[2] = {0, 1};
  auto want = net->run(in);
  std::vector<std::thread> threads;
  std::vector<int> agree(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t, copy = std::make_shared<mlp>(net->copy())]() mutable {
      float mine[2] = {0, 1};
      for (int i = 0; i < 1000; ++i)
        agree[t] += copy->run(mine) == want ? 1 : 0;
    });
  for (auto& th : threads)
    th.join();
  for (int n : agree)
    EXPECT_EQ(n, 1000);
}

TEST(Mlp, BadShapesAndTextsAreRefused) {
  mlp_spec one_layer;
  one_layer.layers = {3};
  auto a = mlp::create(one_layer);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.err().field, "layers");
  mlp_spec huge;
  huge.layers = {10000, 10000};
  EXPECT_FALSE(mlp::create(huge));

  auto net = mlp::create(xor_spec());
  ASSERT_TRUE(net);
  dataset wrong;
  wrong.inputs = 3;
  wrong.outputs = 1;
  wrong.add({1, 2, 3}, {1});
  auto trained = net->train(wrong, 10, 0.0f);
  ASSERT_FALSE(trained);
  EXPECT_NE(trained.err().message.find("3 inputs"), std::string::npos) << trained.err().message;

  EXPECT_FALSE(mlp::deserialize("not a model"));
  auto text = net->serialize();
  EXPECT_FALSE(mlp::deserialize(text.substr(0, text.size() / 2))) << "truncated weights";
  EXPECT_FALSE(mlp::deserialize(text + " 0.5")) << "extra weights";
}
