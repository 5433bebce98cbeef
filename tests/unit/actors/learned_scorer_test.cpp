// The learned scorer: it comes to prefer the agent that succeeds, notices when that changes,
// trains off the calling thread, and keeps its features in range.
#include "actors/learned_scorer.hpp"

#include <functional>
#include <random>
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

