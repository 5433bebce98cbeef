// The scheduler's view of every agent: records, load, and indexes that make routing cheap.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>

#include "actors/executor.hpp"
#include "actors/routing.hpp"
#include "runtime/model.hpp"

namespace hive::actors {

struct agent_entry {
  agent_record record;
  caf::actor handle; ///< the agent's actor (set and replaced by the scheduler)
  uint32_t load = 0; ///< tasks assigned and not yet released (by this node)
  /// Cluster mode, an agent of another node: the tasks it runs for all nodes, as its node
  /// last reported. It takes work while the larger of this and `load` is below its limit.
  uint32_t reported_load = 0;
  bool remote = false; ///< lives on another node (record.node_id): mirrored, never stored
  /// A local agent's runs for other nodes (part of `load`), until their actor answers.
  uint32_t remote_runs = 0;
  uint32_t crash_streak = 0; ///< crashes since the agent last completed a task
  bool suspended = false;    ///< its actor was reported lost; no work until it is restarted
  /// What executors see of the agent; made at its first assignment (idle agents cost nothing)
  /// and dropped when its metadata changes.
  std::shared_ptr<const execution_context> context;
  /// For agents of type script: metadata.script, the script whose task types it takes.
  std::string script;
  size_t available_pos = npos;
  static constexpr size_t npos = static_cast<size_t>(-1);

  /// Accepts work: idle or working, and below max_concurrency.
  bool available() const noexcept {
    return (record.state == agent_state::idle || record.state == agent_state::working)
           && std::max(load, reported_load) < record.max_concurrency && !suspended;
  }
};

/// Owned by the scheduler actor; not thread-safe. Entries are ordered by id (= creation order),
/// which is also the paging order of GET /api/agents.
class agent_directory {
public:
  agent_entry* find(std::string_view id);
  const std::map<std::string, agent_entry, std::less<>>& entries() const noexcept {
    return entries_;
  }
  size_t size() const noexcept { return entries_.size(); }
  size_t remote_count() const noexcept { return remote_; }

  /// Adds an agent (its id must be new).
  agent_entry& add(agent_record record);
  void remove(std::string_view id);

  /// Cluster mode: adds or refreshes an agent of another node as its node reported it (its
  /// record, the handle of its actor, its load). Load reserved by this node stays.
  agent_entry& upsert_remote(agent_record record, caf::actor handle, uint32_t reported_load);
  /// Cluster mode: the agents of a node that is lost go offline; back to their reported
  /// state when it is heard from again (upsert_remote).
  void set_node_offline(std::string_view node_id, timestamp_ms now);

  /// Applies a validated patch (name, state, capabilities, max_concurrency, metadata).
  void apply(agent_entry& entry, const agent_patch& patch, timestamp_ms now);
  void set_state(agent_entry& entry, agent_state state, timestamp_ms now);
  /// Holds work back from an agent whose actor is gone until it is restarted (or resumes it).
  void set_suspended(agent_entry& entry, bool suspended);

  /// The agent as executors see it (made on first use, kept until its metadata changes).
  const execution_context_ptr& context_of(agent_entry& entry);

  /// A task was assigned to / finished on the agent. `release` updates the counters.
  void reserve(agent_entry& entry, timestamp_ms now);
  /// `frees_slot` false: the task gave its slot back earlier (lend_slot).
  void release(agent_entry& entry, bool success, double latency_ms, bool counted,
               timestamp_ms now, bool frees_slot = true);
  /// A paused script gives its slot back: the agent may take other work meanwhile.
  void lend_slot(agent_entry& entry, timestamp_ms now);

  /// Picks the best-scoring agent among at most `sample_limit` eligible ones (those with every
  /// required capability and free capacity), starting the scan at a rotating offset so equal
  /// agents share the work. Returns nullptr when no agent is eligible now.
  /// `owner`: the script that defines the task's type (empty for built-in types); script
  /// agents take only their own script's types.
  /// `local_only`: skip the agents of other nodes.
  agent_entry* select(const task_record& task, const agent_scorer& scorer, size_t sample_limit,
                      std::string_view owner = {}, bool local_only = false);
  /// Whether any agent is of type script (then dispatch looks up each task type's owner).
  bool has_script_agents() const noexcept { return script_agents_ > 0; }
  /// metadata.script of a script agent's record ("" when absent or not a string).
  static std::string script_of(const agent_record& record);

  bool any_available() const noexcept { return !available_.empty(); }
  std::array<uint64_t, agent_state_count> count_by_state() const;

private:
  void update_availability(agent_entry& entry);
  void index_capabilities(agent_entry& entry);
  void unindex_capabilities(agent_entry& entry);

  std::map<std::string, agent_entry, std::less<>> entries_;
  std::vector<agent_entry*> available_;
  std::unordered_map<std::string, std::vector<agent_entry*>> by_capability_;
  size_t rotation_ = 0;
  size_t script_agents_ = 0;
  size_t remote_ = 0; ///< entries of agents that live on other nodes
  // select()'s working vectors, kept to avoid allocating per task.
  std::vector<candidate> candidates_;
  std::vector<agent_entry*> entries_scored_;
  std::vector<double> scores_;
};

} // namespace hive::actors
