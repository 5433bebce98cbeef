// Alert rules: a small state machine per (kind, severity).
#include "actors/alerts.hpp"

#include <cstdio>

namespace hive::actors {
namespace {

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v);
  return buf;
}

std::string describe(alert_kind kind, double value, double threshold) {
  switch (kind) {
    case alert_kind::cpu:
      return "CPU use " + percent(value) + " is at or above " + percent(threshold);
    case alert_kind::memory:
      return "resident memory " + percent(value) + " of the limit is at or above "
             + percent(threshold);
    case alert_kind::queue:
      return "unfinished tasks fill " + percent(value) + " of tasks.queue_max (threshold "
             + percent(threshold) + ")";
    case alert_kind::failure_rate:
      return percent(value) + " of the tasks finished in the last 5 minutes failed (threshold "
             + percent(threshold) + ")";
  }
  return {};
}

} // namespace

std::string_view to_string(alert_kind x) noexcept {
  switch (x) {
    case alert_kind::cpu:
      return "cpu";
    case alert_kind::memory:
      return "memory";
    case alert_kind::queue:
      return "queue";
    case alert_kind::failure_rate:
      return "failure_rate";
  }
  return "unknown";
}

std::string_view to_string(alert_severity x) noexcept {
  return x == alert_severity::critical ? "critical" : "warning";
}

void alert_rules::check(alert_kind kind, alert_severity severity, double threshold, double value,
                        timestamp_ms now, std::vector<alert_change>& out) {
  auto& slot = active_[static_cast<size_t>(kind) * 2 + static_cast<size_t>(severity)];
  if (!slot) {
    if (value < threshold)
      return;
    alert a;
    a.id = std::string{to_string(kind)} + "_" + std::string{to_string(severity)};
    a.kind = kind;
    a.severity = severity;
    a.value = value;
    a.threshold = threshold;
    a.message = describe(kind, value, threshold);
    a.raised_at = now;
    slot = a;
    out.push_back({true, std::move(a)});
    return;
  }
  if (value >= threshold - t_.hysteresis)
    return; // still active: no repeat
  alert done = std::move(*slot);
  slot.reset();
  done.value = value;
  done.resolved_at = now;
  recent_.push_front(done);
  if (recent_.size() > recent_max)
    recent_.pop_back();
  out.push_back({false, std::move(done)});
}

std::vector<alert_change> alert_rules::evaluate(const alert_reading& r, timestamp_ms now) {
  std::vector<alert_change> out;
  auto both = [&](alert_kind kind, const std::optional<double>& value, double warning,
                  double critical) {
    if (!value)
      return;
    check(kind, alert_severity::warning, warning, *value, now, out);
    check(kind, alert_severity::critical, critical, *value, now, out);
  };
  both(alert_kind::cpu, r.cpu_percent, t_.cpu_warning, t_.cpu_critical);
  both(alert_kind::memory, r.memory_percent, t_.memory_warning, t_.memory_critical);
  both(alert_kind::queue, r.queue_percent, t_.queue_warning, t_.queue_critical);
  both(alert_kind::failure_rate, r.failure_rate_percent, t_.failure_rate_warning,
       t_.failure_rate_critical);
  return out;
}

std::vector<alert> alert_rules::active() const {
  std::vector<alert> out;
  for (const auto& a : active_)
    if (a)
      out.push_back(*a);
  return out;
}

} // namespace hive::actors
