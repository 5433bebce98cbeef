// The monitor: a snapshot of the hive every history interval, kept in a fixed ring for
// /metrics/history, published as `metrics_snapshot`, and checked against the alert thresholds.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "actors/alerts.hpp"
#include "runtime/model.hpp"
#include "runtime/resources.hpp"

namespace hive::actors {

class event_bus;
class task_activity;
struct hive_status;

/// The figures of a snapshot (names as in /metrics/history).
enum class metric : uint8_t {
  cpu_percent,
  memory_percent,
  resident_memory_bytes,
  open_fds,
  tasks_submitted_per_sec,
  tasks_completed_per_sec,
  tasks_failed_per_sec,
  task_latency_p50_ms,
  task_latency_p95_ms,
  task_latency_p99_ms,
  queue_depth,
  queue_fill_percent,
  tasks_running,
  live_task_actors,
  agents_total,
  agents_idle,
  agents_working,
  failure_rate_percent,
  alerts_active,
};
inline constexpr int metric_count = 19;

std::string_view to_string(metric x) noexcept;
bool from_string(std::string_view in, metric& out) noexcept;

struct metrics_snapshot {
  timestamp_ms at = 0;
  std::array<double, metric_count> values{};

  double operator[](metric m) const noexcept { return values[static_cast<size_t>(m)]; }
  double& operator[](metric m) noexcept { return values[static_cast<size_t>(m)]; }
};

struct monitor_settings {
  uint32_t interval_secs = 10;
  size_t retention = 8640; ///< snapshots kept
  uint32_t queue_max = 100000;
  alert_thresholds thresholds;
};

/// Thread-safe: the monitor actor samples, API threads read.
class monitor {
public:
  /// The window the failure-rate alert looks at.
  static constexpr uint32_t failure_window_secs = 300;

  explicit monitor(monitor_settings s);

  const monitor_settings& settings() const noexcept { return settings_; }

  /// Replaces the /proc sampler (tests inject readings); an empty function restores it.
  void set_probe(std::function<runtime::resource_reading()> probe);

  /// CPU and memory now (the probe's, or /proc's since the last reading).
  runtime::resource_reading read_resources();

  /// Builds a snapshot from `res`, `st` and `activity`, keeps it, evaluates the alerts, and
  /// publishes `metrics_snapshot` then any `alert_raised` / `alert_resolved` on `bus`.
  void sample(const runtime::resource_reading& res, const hive_status& st,
              const task_activity& activity, const event_bus& bus, timestamp_ms now);

  /// Snapshots taken at or after `since`, oldest first.
  std::vector<metrics_snapshot> history(timestamp_ms since) const;
  std::vector<alert> active_alerts() const;
  std::vector<alert> recent_alerts() const;
  /// The resources of the last snapshot; nullopt before the first.
  std::optional<runtime::resource_reading> last_resources() const;

private:
  monitor_settings settings_;
  std::mutex probe_mtx_; ///< guards probe_ and sampler_
  std::function<runtime::resource_reading()> probe_;
  runtime::resource_sampler sampler_;

  mutable std::mutex mtx_; ///< guards what follows
  std::vector<metrics_snapshot> ring_; ///< grows to `retention`, then wraps at next_
  size_t next_ = 0;
  alert_rules rules_;
  std::optional<runtime::resource_reading> last_;
};

} // namespace hive::actors
