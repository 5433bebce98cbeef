// The learned scorer: it comes to prefer the agent that succeeds, notices when that changes,
// trains off the calling thread, and keeps its features in range.
#include "actors/learned_scorer.hpp"

#include <atomic>
#include <functional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

using namespace hive;
using namespace hive::actors;

namespace {

agent_record agent(const std::string& id) {
  agent_record a;
  a.id = id;
  a.max_concurrency = 4;
  a.capabilities.push_back({"x", 0.5, 0.1}); // both declare the same: only outcomes tell
  return a;
}

task_record task(int i) {
  task_record t;
  t.id = "t" + std::to_string(i);
  t.type = "sim";
  t.required_capabilities.push_back({"x", 0.0});
  return t;
}

/// Runs `n` tasks; returns how many of the last 100 went to agent `want`.
int run(learned_scorer& s, std::vector<agent_record>& agents, const std::vector<double>& skill,
        int n, size_t want, std::mt19937& rng) {
  std::uniform_real_distribution<double> u{0, 1};
  int to_want = 0;
  for (int i = 0; i < n; ++i) {
    auto t = task(i);
    size_t best = 0;
    double best_score = -1;
    for (size_t a = 0; a < agents.size(); ++a) {
      double sc = s.score(t, agents[a], 0);
      if (sc > best_score) {
        best_score = sc;
        best = a;
      }
    }
    bool ok = u(rng) < skill[best];
    s.observe(t, agents[best], ok, 5);
    (ok ? agents[best].tasks_completed : agents[best].tasks_failed) += 1;
    if (i >= n - 100 && best == want)
      ++to_want;
  }
  return to_want;
}

} // namespace

TEST(LearnedScorer, PrefersTheAgentThatSucceedsAndNoticesAChange) {
  learned_scorer s{[](std::function<void()> job) { job(); }};
  std::vector<agent_record> agents{agent("a"), agent("b"), agent("c")};
  std::mt19937 rng{3};
  EXPECT_GE(run(s, agents, {0.1, 0.9, 0.3}, 600, 1, rng), 85) << "b is the one that succeeds";
  EXPECT_GE(s.trainings(), 1u) << "the network was trained on the outcomes";
  // b turns bad, c good: the counts decay and the draws move over.
  EXPECT_GE(run(s, agents, {0.1, 0.1, 0.9}, 600, 2, rng), 85);
}

TEST(LearnedScorer, TrainingRunsWhereItIsSent) {
  std::vector<std::function<void()>> jobs;
  learned_scorer_options opts;
  opts.retrain_every = 16;
  learned_scorer s{[&](std::function<void()> job) { jobs.push_back(std::move(job)); }, opts};
  auto a = agent("a");
  for (int i = 0; i < 40; ++i)
    s.observe(task(i), a, i % 2 == 0, 5);
  ASSERT_EQ(jobs.size(), 1u) << "one training at a time, handed to the runner";
  EXPECT_EQ(s.trainings(), 0u);
  jobs.front()();
  EXPECT_EQ(s.trainings(), 1u);
  // The next score picks the new network up; its prediction is a probability.
  double p = s.predict(task(99), a, 0);
  EXPECT_GT(p, 0.0);
  EXPECT_LT(p, 1.0);
}

TEST(LearnedScorer, FeaturesAreBoundedAndSeparateSignatures) {
  learned_scorer s{[](std::function<void()> job) { job(); }};
  auto a = agent("a");
  auto x = s.features(task(1), a, 3);
  ASSERT_EQ(x.size(), learned_scorer::input_count);
  for (float v : x) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 1.5f);
  }
  auto other = task(2);
  other.required_capabilities[0].name = "y";
  EXPECT_NE(s.features(task(1), a, 0), s.features(other, a, 0)) << "kinds hash to their slots";
}

TEST(LearnedScorer, EachTrainingRunIsReportedAndValidatedBeforeItIsAdopted) {
  std::vector<learning_report> reports;
  learned_scorer_options opts;
  opts.retrain_every = 50;
  learned_scorer s{[](std::function<void()> job) { job(); }, opts,
                   [&](const learning_report& r) { reports.push_back(r); }};
  std::vector<agent_record> agents{agent("a"), agent("b")};
  std::mt19937 rng{5};
  run(s, agents, {0.2, 0.8}, 400, 1, rng);
  ASSERT_GE(reports.size(), 5u) << "one report per run, delivered at the next score";
  const auto& first = reports.front();
  EXPECT_TRUE(first.adopted) << "the first network replaces the heuristic prior";
  EXPECT_EQ(first.rows, 50u);
  EXPECT_GT(first.epochs, 0u);
  for (const auto& r : reports) {
    EXPECT_GE(r.validation_accuracy, 0.0);
    EXPECT_LE(r.validation_accuracy, 1.0);
    EXPECT_EQ(r.adopted, &r == &reports.front() || r.validation_mse_after <= r.validation_mse_before)
      << "adopted exactly when not worse on the held-out rows";
  }
  EXPECT_GT(reports.back().validation_accuracy, 0.6) << "it predicts most held-out outcomes";
}


TEST(LearnedScorer, NetworkAndExperienceSurviveARestart) {
  auto db = persistence::open_store("memory://", "normal");
  ASSERT_TRUE(db);
  learned_scorer_options opts;
  opts.retrain_every = 64;
  opts.experience_max = 200;
  opts.store = db->get();
  std::vector<agent_record> agents{agent("a"), agent("b")};
  double before = 0;
  {
    learned_scorer s{[](std::function<void()> job) { job(); }, opts};
    std::mt19937 rng{11};
    run(s, agents, {0.2, 0.9}, 640, 1, rng);
    before = s.predict(task(1), agents[1], 0); // picks up the last network
    ASSERT_TRUE(s.trained());
  }
  // Chunks beyond what the newest 200 outcomes need were dropped as new ones came.
  auto chunks = (*db)->list_objects(learned_scorer::experience_kind);
  ASSERT_TRUE(chunks);
  EXPECT_LE(chunks->size(), 4u);
  ASSERT_TRUE((*db)->find_object("model", learned_scorer::model_name).value().has_value());

  learned_scorer again{[](std::function<void()> job) { job(); }, opts};
  EXPECT_FALSE(again.trained());
  auto loaded = again.restore(**db);
  ASSERT_TRUE(loaded) << loaded.err().message;
  EXPECT_GE(*loaded, 200u) << "the newest outcomes, enough to fill the experience";
  EXPECT_TRUE(again.trained());
  // Same network, and the pair counts rebuilt from the outcomes: the same prediction.
  EXPECT_NEAR(again.predict(task(1), agents[1], 0), before, 0.02);
}

TEST(LearnedScorer, ASwapNeverServesAHalfBuiltNetwork) {
  std::vector<std::function<void()>> jobs;
  learned_scorer_options opts;
  opts.retrain_every = 100;
  opts.epochs = 200;
  learned_scorer s{[&](std::function<void()> job) { jobs.push_back(std::move(job)); }, opts};
  std::vector<agent_record> agents{agent("a"), agent("b")};
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 100; ++i)
      s.observe(task(i), agents[i % 2], i % 2 == 1, 5);
    ASSERT_EQ(jobs.size(), static_cast<size_t>(round + 1));
    // Train on another thread while this one keeps predicting the same pair: every answer
    // is the old network's or the new one's, never something in between.
    double old_p = s.predict(task(7), agents[1], 0);
    std::atomic<bool> done{false};
    std::thread trainer{[&] {
      jobs.back()();
      done = true;
    }};
    std::set<double> seen;
    while (!done)
      seen.insert(s.predict(task(7), agents[1], 0));
    trainer.join();
    double new_p = s.predict(task(7), agents[1], 0);
    seen.insert(new_p);
    for (double p : seen)
      EXPECT_TRUE(p == old_p || p == new_p) << p << " is neither " << old_p << " nor " << new_p;
  }
}

TEST(LearnedScorer, TextOfTheTaskReachesTheInputs) {
  learned_scorer s{[](std::function<void()> job) { job(); }};
  auto a = agent("a");
  auto plain = task(1);
  auto worded = task(2);
  worded.description = "translate the quarterly invoice into German";
  auto in_payload = task(3);
  in_payload.payload_json = R"({"text":"translate the quarterly invoice into German"})";
  auto x = s.features(plain, a, 0);
  auto y = s.features(worded, a, 0);
  EXPECT_NE(x, y);
  EXPECT_EQ(y, s.features(in_payload, a, 0)) << "payload.text counts when there is no description";
  for (size_t i = learned_scorer::input_count - learned_scorer::text_slots; i < x.size(); ++i)
    EXPECT_FLOAT_EQ(x[i], 0.5f) << "no words: the middle of the range";
}

TEST(LearnedScorer, BatchScoringAgreesWithOneByOne) {
  // Without exploration the score is deterministic, so the batch path (on the GPU where one
  // is usable) must give the per-candidate scores.
  learned_scorer_options opts;
  opts.exploration = 0;
  opts.retrain_every = 64;
  opts.gpu = inference::probe_gpu().usable;
  opts.gpu_batch_min = 256;
  learned_scorer s{[](std::function<void()> job) { job(); }, opts};
  std::vector<agent_record> agents;
  for (int i = 0; i < 300; ++i)
    agents.push_back(agent("a" + std::to_string(i)));
  std::mt19937 rng{2};
  for (int i = 0; i < 256; ++i)
    s.observe(task(i), agents[static_cast<size_t>(i) % 300], rng() % 3 != 0, 5 + i % 40);
  ASSERT_GT(s.predict(task(0), agents[0], 0), 0.0); // adopts the trained network
  ASSERT_TRUE(s.trained());
  std::vector<candidate> c;
  for (auto& a : agents)
    c.push_back({&a, static_cast<uint32_t>(c.size() % 3)});
  std::vector<double> batch(c.size());
  s.score_batch(task(1), c.data(), c.size(), batch.data());
  for (size_t i = 0; i < c.size(); ++i)
    EXPECT_NEAR(batch[i], s.score(task(1), *c[i].agent, c[i].load), 1e-4) << "candidate " << i
                                                                             << " on " << s.device();
}

TEST(LearnedScorer, PredictionsAreTheSavedNetworksOutputs) {
  // Scoring splits the network's first layer per task for speed; it must still compute what
  // FANN computes for the same inputs.
  auto db = persistence::open_store("memory://", "normal");
  ASSERT_TRUE(db);
  learned_scorer_options opts;
  opts.retrain_every = 64;
  opts.store = db->get();
  learned_scorer s{[](std::function<void()> job) { job(); }, opts};
  std::vector<agent_record> agents{agent("a"), agent("b"), agent("c")};
  std::mt19937 rng{4};
  run(s, agents, {0.3, 0.8, 0.5}, 300, 1, rng);
  s.predict(task(0), agents[0], 0); // adopt the last network
  auto saved = (*db)->find_object("model", learned_scorer::model_name);
  ASSERT_TRUE(saved && saved->has_value());
  auto net = inference::mlp::deserialize((*saved)->body);
  ASSERT_TRUE(net);
  for (int t = 0; t < 3; ++t) {
    auto worded = task(1000 + t);
    worded.description = t == 0 ? "" : "summarize the incident report number " + std::to_string(t);
    for (auto& a : agents)
      for (uint32_t load : {0u, 2u}) {
        auto x = s.features(worded, a, load);
        double want = std::clamp(static_cast<double>(net->run(x.data())[0]), 0.001, 0.999);
        EXPECT_NEAR(s.predict(worded, a, load), want, 1e-5);
      }
  }
}

TEST(LearnedScorer, OutcomesSinceTheLastTrainingAreKeptAtStop) {
  auto db = persistence::open_store("memory://", "normal");
  ASSERT_TRUE(db);
  learned_scorer_options opts;
  opts.retrain_every = 1000; // no training run in this test
  opts.store = db->get();
  std::vector<agent_record> agents{agent("a"), agent("b")};
  {
    learned_scorer s{[](std::function<void()> job) { job(); }, opts};
    for (int i = 0; i < 30; ++i)
      s.observe(task(i), agents[static_cast<size_t>(i % 2)], i % 3 != 0, 5);
    s.on_stop();
  }
  learned_scorer again{[](std::function<void()> job) { job(); }, opts};
  auto loaded = again.restore(**db);
  ASSERT_TRUE(loaded) << loaded.err().message;
  EXPECT_EQ(*loaded, 30u);
}
