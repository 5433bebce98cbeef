// Threshold alerts: CPU, memory, queue fill and task failure rate, each at a warning and a
// critical level, raised once when crossed and resolved with hysteresis.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/model.hpp"

namespace hive::actors {

/// What an alert watches (the `name` on the wire).
enum class alert_kind : uint8_t { cpu, memory, queue, failure_rate };
inline constexpr int alert_kind_count = 4;

enum class alert_severity : uint8_t { warning, critical };

std::string_view to_string(alert_kind x) noexcept;
std::string_view to_string(alert_severity x) noexcept;

struct alert {
  std::string id; ///< "<name>_<severity>", e.g. "cpu_warning": one live alert per id
  alert_kind kind = alert_kind::cpu;
  alert_severity severity = alert_severity::warning;
  double value = 0;     ///< the reading that raised it (or resolved it)
  double threshold = 0; ///< percent
  std::string message;
  timestamp_ms raised_at = 0;
  timestamp_ms resolved_at = 0; ///< 0 while active
};

/// Percentages. An alert is raised at `value >= threshold` and resolved once the value is
/// below `threshold - hysteresis`.
struct alert_thresholds {
  double cpu_warning = 70, cpu_critical = 90;
  double memory_warning = 80, memory_critical = 95;
  double queue_warning = 80, queue_critical = 95; ///< of tasks.queue_max
  double failure_rate_warning = 10, failure_rate_critical = 25;
  double hysteresis = 5;
  uint64_t failure_rate_min_tasks = 20; ///< fewer finished tasks: no failure-rate verdict
};

/// One evaluation's inputs, in percent. A missing value leaves its alerts as they are.
struct alert_reading {
  std::optional<double> cpu_percent;
  std::optional<double> memory_percent;
  std::optional<double> queue_percent;
  std::optional<double> failure_rate_percent;
};

struct alert_change {
  bool raised = false; ///< false: resolved
  alert what;
};

/// Keeps the active alerts and the last resolved ones. Not thread-safe (the monitor owns it).
class alert_rules {
public:
  static constexpr size_t recent_max = 50;

  explicit alert_rules(alert_thresholds t) : t_(t) {}

  /// Compares `r` with the thresholds; returns what was raised or resolved, in that order.
  std::vector<alert_change> evaluate(const alert_reading& r, timestamp_ms now);

  std::vector<alert> active() const;
  /// Resolved alerts, newest first.
  std::vector<alert> recent() const { return {recent_.begin(), recent_.end()}; }
  const alert_thresholds& thresholds() const noexcept { return t_; }

private:
  static constexpr size_t slots = alert_kind_count * 2;

  void check(alert_kind kind, alert_severity severity, double threshold, double value,
             timestamp_ms now, std::vector<alert_change>& out);

  alert_thresholds t_;
  std::array<std::optional<alert>, slots> active_; ///< by kind * 2 + severity
  std::deque<alert> recent_;
};

} // namespace hive::actors
