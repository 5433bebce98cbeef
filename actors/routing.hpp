// Scoring (task, agent) pairs: the seam where the learned model plugs in later.
#pragma once

#include <cstdint>

#include "runtime/model.hpp"

namespace hive::actors {

/// An eligible agent for a task, with the tasks it holds now.
struct candidate {
  const agent_record* agent;
  uint32_t load;
};

/// Scores how well `agent` suits `task`; higher is better. Called on the scheduler actor for
/// the eligible candidates of a task (each already has every required capability and free
/// capacity). Implementations must be cheap (microseconds) and must not block.
class agent_scorer {
public:
  virtual ~agent_scorer() = default;
  virtual double score(const task_record& task, const agent_record& agent,
                       uint32_t load) const = 0;
  /// Scores `n` candidates of one task into `out` (the scheduler's call). By default score()
  /// each; a scorer with a batch path (the learned scorer on a GPU) overrides it.
  virtual void score_batch(const task_record& task, const candidate* c, size_t n,
                           double* out) const {
    for (size_t i = 0; i < n; ++i)
      out[i] = score(task, *c[i].agent, c[i].load);
  }
  /// How an attempt of `task` on `agent` ended (on the scheduler actor, when the agent is
  /// released; not for cancellations). Scorers that learn override it.
  virtual void observe(const task_record& task, const agent_record& agent, bool success,
                       double latency_ms) {}
  /// At shutdown, on the scheduler's thread: keep what must survive the restart (may do
  /// store I/O, the one place a scorer may block).
  virtual void on_stop() {}
};

/// The built-in scorer: proficiency in what the task needs (50%), the agent's observed success
/// rate with Laplace smoothing (30%) and its free capacity (20%).
class heuristic_scorer final : public agent_scorer {
public:
  double score(const task_record& task, const agent_record& agent, uint32_t load) const override;

  /// Mean proficiency over the task's required capabilities; without requirements, the
  /// proficiency in a capability named like the task type, else 0.5.
  static double proficiency_term(const task_record& task, const agent_record& agent);

  /// (completed + 1) / (completed + failed + 2).
  static double success_rate(const agent_record& agent);
};

/// What an outcome teaches about an agent's declared skill: each capability the task required
/// (without requirements, the one named like the task type, if the agent has it) moves toward
/// 1 after a success and toward 0 after a failure, by that capability's learning_rate.
/// Returns whether a proficiency changed. (A proficiency that falls below a task's
/// min_proficiency makes the agent ineligible for such tasks, as declared.)
bool learn_proficiency(agent_record& agent, const task_record& task, bool success) noexcept;

/// True if `agent` has every capability `task` requires, at or above its minimum.
bool meets_requirements(const task_record& task, const agent_record& agent) noexcept;

} // namespace hive::actors
