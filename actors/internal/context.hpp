// What every actor of the core shares: settings, store, committer, executors, pools, clock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "actors/event_bus.hpp"
#include "actors/executor.hpp"
#include "actors/routing.hpp"
#include "actors/task_activity.hpp"
#include "actors/task_lifecycle.hpp"
#include "persistence/store.hpp"
#include "persistence/write_behind.hpp"
#include "runtime/clock.hpp"
#include "runtime/thread_pool.hpp"

namespace hive::actors {

/// The settings the actors use, copied from runtime::config at start.
struct core_settings {
  uint32_t async_tasks_max = 10000;
  uint32_t max_agents = 100000;
  uint32_t queue_max = 100000;
  uint32_t default_timeout_ms = 30000;
  uint32_t max_timeout_ms = 3600000;
  uint32_t retry_base_ms = 200;
  uint32_t retry_max_ms = 30000;
  uint32_t aging_ms = 5000;
  uint32_t max_batch = 1000;
  size_t routing_sample = 32;    ///< eligible agents scored per decision at most
  uint32_t agent_flush_ms = 500; ///< how often changed agent counters are written
  std::string node_id; ///< cluster mode: this node's id; empty otherwise
};

/// Shared (by shared_ptr) by the scheduler, task and agent actors; outlives all of them.
/// Everything in it is thread-safe or immutable.
struct core_context {
  core_settings settings;
  persistence::store* db = nullptr;
  std::unique_ptr<persistence::write_behind> writer;
  const executor_registry* executors = nullptr;
  std::unique_ptr<runtime::thread_pool> blocking; ///< long executors
  std::unique_ptr<runtime::thread_pool> reads;    ///< store reads for the API
  const runtime::clock* clock = &runtime::system_clock::instance();
  std::unique_ptr<agent_scorer> scorer;
  std::string routing_name = "heuristic"; ///< what /api/hive/status shows
  std::string accelerator; ///< the usable GPU (whatever the mode), or "none (why)"
  retry_policy retry{200, 30000};
  event_bus events;
  std::unique_ptr<task_activity> activity; ///< rolling rates and latencies, fed by publish()
  dispatch_timing dispatch; ///< run round trips to local and remote agents (task actors)

  timestamp_ms now() const noexcept { return clock->now(); }

  /// Counts a task event in `activity` and publishes it with a snapshot of `task` (only when
  /// someone listens).
  void publish(event_type type, const task_record& task, std::string detail = {},
               std::string agent_id = {}) const {
    activity->record(type, task, now());
    if (!events.has_subscribers())
      return;
    hive_event ev;
    ev.type = type;
    ev.at = now();
    ev.task = std::make_shared<const task_record>(task);
    ev.agent_id = std::move(agent_id);
    ev.detail = std::move(detail);
    events.publish(ev);
  }

  /// Publishes an agent event with a snapshot of `agent`.
  void publish(event_type type, const agent_record& agent) const {
    if (!events.has_subscribers())
      return;
    hive_event ev;
    ev.type = type;
    ev.at = now();
    ev.agent = std::make_shared<const agent_record>(agent);
    ev.agent_id = agent.id;
    events.publish(ev);
  }
};

using context_ptr = std::shared_ptr<core_context>;

} // namespace hive::actors
