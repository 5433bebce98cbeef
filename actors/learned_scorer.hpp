// Learned routing: a FANN network predicts how likely an agent is to complete a task, and
// Thompson sampling around that prediction keeps trying agents it knows little about.
#pragma once

#include <atomic>
#include <chrono>
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
#include "inference/batch_eval.hpp"
#include "inference/mlp.hpp"
#include "persistence/store.hpp"

namespace hive::actors {

struct learned_scorer_options {
  size_t experience_max = 4096;  ///< outcomes kept for training (the newest)
  size_t retrain_every = 256;    ///< outcomes between training runs
  /// A run also starts this long after the last one if fewer outcomes came (0: never).
  double learning_interval_secs = 0;
  /// Runs start at least this far apart, however fast outcomes come (bounds the CPU spent
  /// training at high task rates).
  double min_training_gap_secs = 0;
  unsigned epochs = 40;          ///< per training run
  double prior_strength = 4;     ///< how many outcomes the network's prediction is worth
  double discount = 0.97;        ///< weight of older outcomes of a pair at each new one
  double duration_weight = 0.05; ///< utility lost per unit of predicted duration (0..1 scale)
  /// How far a score strays from the posterior mean toward its Thompson draw (1: the draw).
  double exploration = 0.3;
  uint32_t seed = 7;
  /// Score large candidate lists on the GPU (see score_batch); the caller checked
  /// inference::probe_gpu(). Falls back to the CPU if the GPU fails.
  bool gpu = false;
  size_t gpu_batch_min = 256; ///< candidates of one task from which the GPU is used
  /// Where the network and the experience are kept (model "hive.routing", chunks of kind
  /// "routing.experience"); null: nothing is kept. Written from the background runner only.
  persistence::store* store = nullptr;
};

/// One outcome the network learns from.
struct experience_row {
  std::string agent_id;
  std::string signature; ///< task type and required capabilities (see learned_scorer)
  bool success = false;
  double latency_ms = 0;
  std::vector<float> features; ///< the pair as it looked before the outcome
};

/// Per (agent, task type) the scorer keeps discounted counts of successes and failures. The
/// network (inputs: learned_scorer::features) predicts a success probability p and a duration
/// d (log scale, 0..1); the score is a draw from Beta(p * k + successes, (1 - p) * k +
/// failures), k = prior_strength, minus a load penalty and duration_weight * d: agents with
/// few outcomes get wide draws and so get tried, and what an agent does for a type soon
/// outweighs the prediction. Counts decay, so a changed agent is noticed.
///
/// Training never runs on the scheduler: every `retrain_every` outcomes a copy of the
/// experience goes to `background` (the engine's blocking pool), which trains a copy of the
/// network on the older 80% of the rows, compares it with the network in use on the newest
/// 20%, and hands it back only if it is not worse there; the next score() picks it up. Until
/// the first adopted training the prediction is the heuristic scorer's proficiency term.
///
/// With a store, each run first appends the outcomes since the last run to the stored
/// experience (dropping chunks beyond experience_max), and an adopted network is saved;
/// `restore` loads both at start, so a restarted hive routes as well as before.
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
  /// With `gpu` and at least gpu_batch_min candidates, one GPU evaluation of the network for
  /// all of them; otherwise score() each.
  void score_batch(const task_record& task, const candidate* c, size_t n,
                   double* out) const override;
  void observe(const task_record& task, const agent_record& agent, bool success,
               double latency_ms) override;
  /// Stores the outcomes since the last training run (at shutdown).
  void on_stop() override;

  /// The network's inputs for a pair (exposed for tests and the evaluation bench).
  std::vector<float> features(const task_record& task, const agent_record& agent,
                              uint32_t load) const;
  /// The network's success prediction for a pair, without exploration.
  double predict(const task_record& task, const agent_record& agent, uint32_t load) const;

  uint64_t trainings() const;
  /// Whether a trained network is in use (rather than the heuristic prior).
  bool trained() const noexcept { return trained_; }
  /// Where batches are scored: "CPU" or "GPU (<device>)".
  std::string device() const;

  /// Loads the saved network and experience (call before the first score, on the thread that
  /// scores). A saved network of another shape is ignored (the inputs changed between
  /// versions). Returns how many outcomes were loaded.
  result<size_t> restore(persistence::store& db);

  /// Inputs: 6 pair and agent numbers, 8 slots for the hashed task signature, 16 for the
  /// hashed words of the task's text. Outputs: success probability, duration.
  static constexpr size_t text_slots = 16;
  static constexpr size_t input_count = 14 + text_slots;
  static constexpr size_t output_count = 2;
  static constexpr std::string_view model_name = "hive.routing";
  static constexpr std::string_view experience_kind = "routing.experience";

private:
  struct pair_stats {
    double successes = 0;
    double failures = 0;
  };
  /// What outcomes are counted by: the task type plus the capabilities it requires.
  static std::string signature(const task_record& task);
  /// What every candidate of one task shares: its signature and the hashed words of its text
  /// (description, else payload.text). Cached for the last task scored.
  struct task_view {
    std::string id;
    std::string signature;
    std::vector<float> words;
    /// Hidden-layer sums over the inputs every candidate shares (signature slots, words,
    /// bias), for the network of `generation`.
    std::vector<float> shared;
    uint64_t generation = 0;
  };
  task_view& view(const task_record& task) const;
  const pair_stats* stats(const agent_record& agent, const std::string& signature) const;
  /// The inputs of a pair into `x` (input_count values), its stats already looked up.
  void features_into(float* x, const task_view& tv, const pair_stats* st,
                     const task_record& task, const agent_record& agent, uint32_t load) const;
  struct prediction {
    double success;
    double duration; ///< log1p(ms) / 10, clamped to 0..1
  };
  prediction predict_of(task_view& tv, const pair_stats* st, const task_record& task,
                        const agent_record& agent, uint32_t load) const;
  /// The score of a prediction: the Thompson draw around it, the load and duration terms.
  double utility(const prediction& p, const pair_stats* st, const agent_record& agent,
                 uint32_t load) const;
  /// Swaps in a network (and its GPU copy, if the GPU is used).
  void install(inference::mlp model) const;
  /// The network's outputs for inputs `x` of a candidate of task `tv`: the first layer's
  /// shared part is computed once per task (a quarter of the work per candidate).
  void run_network(task_view& tv, const float* x, float* y) const;
  void adopt_trained() const;
  /// Adds an outcome to the experience and the pair's counts.
  void remember(experience_row row);

  runner background_;
  learned_scorer_options opts_;
  cycle_observer on_cycle_;
  std::unordered_map<std::string, pair_stats> pairs_; ///< key: agent id + '\n' + signature
  std::deque<experience_row> experience_;              ///< the newest outcomes
  size_t since_training_ = 0;
  std::chrono::steady_clock::time_point last_training_{}; ///< when the last run started
  size_t unsaved_ = 0;        ///< outcomes not yet in the store
  uint64_t outcomes_ = 0;     ///< ever observed (names the stored experience chunks)

  mutable task_view view_;       ///< the last task scored
  /// Words of tasks scored and not yet observed (observe() needs them again), bounded.
  mutable std::unordered_map<std::string, std::vector<float>> words_in_flight_;
  mutable std::string key_;      ///< stats()'s lookup key, reused
  mutable std::vector<float> x_; ///< predict_of's inputs, reused

  mutable std::unique_ptr<inference::mlp> model_; ///< used by score (FANN's run writes into it)
  mutable bool trained_ = false;
  mutable std::mt19937 rng_;
  mutable std::unique_ptr<inference::batch_evaluator> gpu_; ///< the network's GPU copy
  mutable inference::mlp_weights weights_; ///< model_'s, for run_network
  mutable uint64_t generation_ = 1;        ///< bumped by install()
  mutable std::vector<float> batch_x_, batch_y_;            ///< score_batch's rows
  mutable std::vector<const pair_stats*> batch_stats_;

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
