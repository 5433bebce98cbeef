// The core's front door: a plain C++ API over the actor system, used by net/ and app/.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/alerts.hpp"
#include "actors/monitor.hpp"
#include "actors/task_activity.hpp"
#include "persistence/store.hpp"
#include "persistence/write_behind.hpp"
#include "runtime/error.hpp"
#include "runtime/model.hpp"
#include "runtime/resources.hpp"

namespace caf {
class actor;
class actor_system;
} // namespace caf

namespace hive::runtime {
struct config;
} // namespace hive::runtime

namespace hive::actors {

class event_bus;
class executor_registry;

/// Receives the answer of an engine call, exactly once, on an actor or pool thread: it must
/// not block (the HTTP layer posts the answer to the connection's strand).
template <class T>
using callback = std::function<void(result<T>)>;

struct submit_outcome {
  task_record task;
  bool replayed = false; ///< an earlier task with the same idempotency key
};

/// Filters of GET /api/agents; results are ordered by id (creation order).
struct agent_query {
  std::optional<agent_state> state;
  std::optional<agent_type> type;
  std::optional<std::string> capability;
  std::string after_id; ///< cursor
  size_t limit = 100;
};

struct hive_status {
  uint64_t agents_total = 0; ///< in cluster mode, on every node
  uint64_t agents_here = 0;  ///< living on this node
  std::array<uint64_t, agent_state_count> agents_by_state{};
  persistence::task_counts tasks_by_status{};
  std::array<uint64_t, priority_levels> queue_depth_by_priority{}; ///< waiting for an agent
  uint64_t live_task_actors = 0;
  uint64_t running_tasks = 0;
  uint64_t agent_restarts = 0;
  timestamp_ms started_at = 0;
  timestamp_ms now = 0;
  std::string store;
  std::vector<std::string> task_types;
  /// The last 1, 5 and 15 minutes (status_windows_secs).
  std::array<activity_window, status_windows_secs.size()> activity{};
  /// CPU and memory at the last metrics snapshot; nullopt before the first.
  std::optional<runtime::resource_reading> resources;
  std::vector<alert> alerts; ///< active
  /// Since start: round trips of runs to agents here and on other nodes, in microseconds.
  latency_summary dispatch_local_us, dispatch_remote_us;
  std::string routing;       ///< "heuristic", "learned (FANN, CPU)" or "learned (FANN, GPU: ...)"
  std::string accelerator;   ///< the usable GPU's name, or "none (why)"
};

/// Owns the scheduler actor (which owns agents and tasks), the write-behind committer and
/// the pool for blocking reads. Every call is thread-safe and returns at once; the answer
/// comes through the callback.
class engine {
public:
  /// Recovers agents and unfinished tasks from the store, then starts serving. `db` and
  /// `executors` must outlive the engine.
  static result<std::unique_ptr<engine>> start(caf::actor_system& sys, const runtime::config& cfg,
                                               persistence::store& db,
                                               const executor_registry& executors);
  ~engine();

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // -- tasks ----------------------------------------------------------------

  /// Validates, admits and durably stores a task; answers after the commit.
  void submit(task_record spec, callback<submit_outcome> done);
  /// All or nothing: one invalid task refuses the whole batch.
  void submit_batch(std::vector<task_record> specs, callback<std::vector<submit_outcome>> done);
  void get_task(std::string id, callback<task_record> done);
  void list_tasks(persistence::task_filter filter, callback<std::vector<task_record>> done);
  void task_events(std::string id, callback<std::vector<task_event>> done);
  void cancel_task(std::string id, callback<task_record> done);
  /// Re-queues a failed, dead or cancelled task.
  void retry_task(std::string id, callback<task_record> done);

  // -- agents ---------------------------------------------------------------

  void create_agent(agent_record spec, callback<agent_record> done);
  void get_agent(std::string id, callback<agent_record> done);
  void list_agents(agent_query query, callback<std::vector<agent_record>> done);
  void update_agent(std::string id, agent_patch patch, callback<agent_record> done);
  void delete_agent(std::string id, callback<unit_t> done);

  // -- stored objects (models, datasets; see neural_library.hpp) ------------

  /// Every object of a kind, without bodies, by name.
  void list_objects(std::string kind, callback<std::vector<persistence::stored_object>> done);
  /// One object with its body; not_found when there is none.
  void get_object(std::string kind, std::string name, callback<persistence::stored_object> done);
  /// Stores an object; answers whether it is new (false: it replaced one).
  void put_object(persistence::stored_object object, callback<bool> done);
  /// not_found when there was nothing to delete.
  void delete_object(std::string kind, std::string name, callback<unit_t> done);

  /// Runs `fn` on the engine's pool for store I/O (for other services' blocking calls, such
  /// as checking and storing a script); false when the engine is stopping.
  bool run_blocking(std::function<void()> fn);

  // -- hive -----------------------------------------------------------------

  void status(callback<hive_status> done);
  /// Ok while the store answers.
  void ready(callback<unit_t> done);
  const executor_registry& executors() const noexcept;
  /// The scheduler actor (cluster mode: the node actor introduces it to the other nodes).
  const caf::actor& scheduler() const noexcept;

  // -- monitoring (answered at once from memory; thread-safe) ------------------

  /// Metrics snapshots taken at or after `since`, oldest first.
  std::vector<metrics_snapshot> metrics_history(timestamp_ms since) const;
  /// Seconds between snapshots and how many are kept.
  const monitor_settings& monitor_config() const noexcept;
  std::vector<alert> active_alerts() const;
  /// Resolved alerts, newest first (the last alert_rules::recent_max).
  std::vector<alert> recent_alerts() const;
  /// Replaces the /proc CPU and memory readings of the monitor (tests inject readings to
  /// cross alert thresholds); an empty function restores /proc.
  void set_resource_probe(std::function<runtime::resource_reading()> probe);
  /// Every agent and task change, as it happens (see event_bus.hpp).
  event_bus& events() noexcept;
  /// Observes every later store transaction of the write-behind committer (for metrics): `fn`
  /// runs on the writer thread with (rows, seconds, committed) and must not block; see
  /// persistence::write_behind::set_commit_observer. Thread-safe; an empty `fn` removes it.
  void set_commit_observer(std::function<void(size_t items, double seconds, bool ok)> fn);
  /// The write-behind committer's counters (rows held through an outage, given up, ...).
  persistence::write_behind_stats writer_stats() const;
  size_t write_lanes() const noexcept;

  /// Stops dispatching, lets running tasks finish for up to `grace`, persists what is left
  /// and flushes the store. Blocks; call once, from the thread that owns the engine.
  void shutdown(std::chrono::milliseconds grace);

  struct impl;

private:
  explicit engine(std::shared_ptr<impl> ptr);
  void submit_batch_impl(std::vector<task_record> specs, bool batch,
                         callback<std::vector<submit_outcome>> done);
  std::shared_ptr<impl> impl_; ///< shared with callbacks still in flight
};

} // namespace hive::actors
