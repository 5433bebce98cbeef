// The core's metrics: task counters and latency histograms fed by the event bus, and the
// scheduler's gauges (queue depth, agents, live actors) refreshed from engine::status.
#pragma once

#include <memory>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hive::actors {

class event_bus;
struct hive_event;
struct hive_status;

/// Registers the hive_task*, hive_queue_depth, hive_agents, hive_live_task_actors,
/// hive_tasks_running, hive_agent_restarts_total and hive_alerts_* families in `registry`, which must outlive
/// this object and every bus it subscribes to. Thread-safe: events come from actor threads.
class task_metrics {
public:
  explicit task_metrics(prometheus::Registry& registry);
  ~task_metrics();

  task_metrics(const task_metrics&) = delete;
  task_metrics& operator=(const task_metrics&) = delete;

  /// Counts every later task event of `bus`. The sink shares this object's state, so it stays
  /// valid while the bus publishes; it never blocks (atomic counters, short locks).
  void subscribe(event_bus& bus);

  /// Applies one event (what the bus sink does).
  void on_event(const hive_event& ev);

  /// Sets the gauges from a status snapshot (called at scrape time, on the scheduler's thread).
  void update(const hive_status& status);

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace hive::actors
