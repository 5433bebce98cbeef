// Learned routing: a FANN network predicts how likely an agent is to complete a task, and
// Thompson sampling around that prediction keeps trying agents it knows little about.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/learning_report.hpp"
#include "actors/routing.hpp"
#include "inference/mlp.hpp"

namespace hive::actors {

struct learned_scorer_options {
  size_t experience_max = 4096;  ///< outcomes kept for training (the newest)
  size_t retrain_every = 256;    ///< outcomes between training runs
  unsigned epochs = 40;          ///< per training run
  double prior_strength = 4;     ///< how many outcomes the network's prediction is worth
  double discount = 0.97;        ///< weight of older outcomes of a pair at each new one
  uint32_t seed = 7;
};

/// Per (agent, task type) the scorer keeps discounted counts of successes and failures. The
/// network (inputs: learned_scorer::features) predicts a success probability p; the score is a
/// draw from Beta(p * k + successes, (1 - p) * k + failures), k = prior_strength, minus a load
/// penalty: agents with few outcomes get wide draws and so get tried, and what an agent does
/// for a type soon outweighs the prediction. Counts decay, so a changed agent is noticed.
///
/// Training never runs on the scheduler: every `retrain_every` outcomes a copy of the
/// experience goes to `background` (the engine's blocking pool), which trains a copy of the
/// network on the older 80% of the rows, compares it with the network in use on the newest
/// 20%, and hands it back only if it is not worse there; the next score() picks it up. Until
/// the first adopted training the prediction is the heuristic scorer's proficiency term.
///
/// score() and observe() run on one thread (the scheduler's); the handover is locked.
class learned_scorer final : public agent_scorer {
public:
  using runner = std::function<void(std::function<void()>)>;
  /// Told about each training run, on the scorer's thread (the scheduler's), at the first
  /// score() after the run ended; must not block.
  using cycle_observer = std::function<void(const learning_report&)>;

  explicit learned_scorer(runner background, learned_scorer_options opts = {},
                          cycle_observer on_cycle = {});
  ~learned_scorer() override;

  double score(const task_record& task, const agent_record& agent,
               uint32_t load) const override;
  void observe(const task_record& task, const agent_record& agent, bool success,
               double latency_ms) override;

  /// The network's inputs for a pair (exposed for tests and the evaluation bench).
  std::vector<float> features(const task_record& task, const agent_record& agent,
                              uint32_t load) const;
  /// The network's success prediction for a pair, without exploration.
  double predict(const task_record& task, const agent_record& agent, uint32_t load) const;

  uint64_t trainings() const;
  static constexpr size_t input_count = 14;

private:
  struct pair_stats {
    double successes = 0;
    double failures = 0;
  };
  /// What outcomes are counted by: the task type plus the capabilities it requires.
  static std::string signature(const task_record& task);
  const pair_stats* stats(const agent_record& agent, const std::string& signature) const;
  /// features() and predict() for a signature and its stats already looked up (score() looks
  /// them up once per candidate).
  static std::vector<float> features_of(const std::string& sig, const pair_stats* st,
                                        const task_record& task, const agent_record& agent,
                                        uint32_t load);
  double predict_of(const std::string& sig, const pair_stats* st, const task_record& task,
                    const agent_record& agent, uint32_t load) const;
  void adopt_trained() const;

  runner background_;
  learned_scorer_options opts_;
  cycle_observer on_cycle_;
  std::unordered_map<std::string, pair_stats> pairs_; ///< key: agent id + '\n' + task type
  inference::dataset experience_;                      ///< the newest outcomes, as rows
  size_t since_training_ = 0;
  bool training_ = false;

  mutable std::unique_ptr<inference::mlp> model_; ///< used by score (FANN's run writes into it)
  mutable bool trained_ = false;
  mutable std::mt19937 rng_;

  struct handover {
    std::mutex mtx;
    std::string model; ///< a newly trained network, serialized; empty when none waits
    uint64_t trainings = 0;
    bool busy = false;
    std::vector<learning_report> reports; ///< runs not yet reported
    std::atomic<bool> waiting{false};      ///< model or reports to pick up
  };
  std::shared_ptr<handover> handover_;
};

} // namespace hive::actors
