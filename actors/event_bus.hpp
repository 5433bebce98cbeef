// The event bus: every agent and task change, published to whoever listens (WebSocket, metrics).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/model.hpp"

namespace hive::actors {

enum class event_type : uint8_t {
  agent_created,
  agent_updated,
  agent_removed,
  task_created,
  task_assigned,
  task_started,
  task_completed,
  task_failed,
  task_retrying,
  task_cancelled,
  task_dead,
  metrics_snapshot, ///< periodic, from the monitor
  alert_raised,
  alert_resolved,
  learning_cycle_completed, ///< a training run of the routing network
  script_event,             ///< ctx.emit from a Lua script
};
inline constexpr int event_type_count = 16;

/// Names as they appear on the wire ("task_completed").
std::string_view to_string(event_type x) noexcept;
bool from_string(std::string_view in, event_type& out) noexcept;

struct alert;
struct learning_report;
struct metrics_snapshot;

/// One change. Task events carry a snapshot of the task, agent events one of the agent (for
/// agent_removed only the id is known), monitor events the snapshot or the alert.
struct hive_event {
  event_type type = event_type::task_created;
  timestamp_ms at = 0;
  std::shared_ptr<const task_record> task;
  std::shared_ptr<const agent_record> agent;
  std::shared_ptr<const metrics_snapshot> snapshot; ///< metrics_snapshot
  std::shared_ptr<const alert> alert_info; ///< alert_raised, alert_resolved
  std::shared_ptr<const learning_report> learning; ///< learning_cycle_completed
  /// script_event: `detail` is the event's name, this its data (JSON), task_id and agent_id
  /// say where it came from.
  std::shared_ptr<const std::string> data_json;
  std::string task_id; ///< script_event
  std::string agent_id; ///< agent_removed, task_assigned
  std::string detail;   ///< e.g. why an attempt failed and when it is retried
};

/// Thread-safe publish/subscribe. Sinks run on the publisher's thread (an actor's or the
/// write-behind thread) and must not block: they copy what they need and hand it on.
class event_bus {
public:
  using sink = std::function<void(const hive_event&)>;

  /// Returns a token for unsubscribe.
  uint64_t subscribe(sink fn);
  void unsubscribe(uint64_t token);

  /// Cheap check so publishers skip building events nobody reads.
  bool has_subscribers() const noexcept;

  void publish(const hive_event& ev) const;

  /// Events published since start (counted with or without subscribers).
  uint64_t published() const noexcept;

private:
  struct entry {
    uint64_t token;
    sink fn;
  };
  using list = std::vector<entry>;

  mutable std::mutex mtx_;            ///< guards writers of subs_
  std::shared_ptr<const list> subs_;  ///< copy-on-write; read with std::atomic_load
  uint64_t next_token_ = 1;
  mutable std::atomic<uint64_t> published_{0};
};

} // namespace hive::actors
