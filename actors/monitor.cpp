// The monitor: snapshot building, the history ring, alert evaluation, and the actor that ticks.
#include "actors/monitor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/engine.hpp"
#include "actors/event_bus.hpp"
#include "actors/internal/monitor_actor.hpp"
#include "actors/messages.hpp"
#include "actors/task_activity.hpp"

namespace hive::actors {
namespace {

constexpr std::array<std::string_view, metric_count> metric_names{
  "cpu_percent",
  "memory_percent",
  "resident_memory_bytes",
  "open_fds",
  "tasks_submitted_per_sec",
  "tasks_completed_per_sec",
  "tasks_failed_per_sec",
  "task_latency_p50_ms",
  "task_latency_p95_ms",
  "task_latency_p99_ms",
  "queue_depth",
  "queue_fill_percent",
  "tasks_running",
  "live_task_actors",
  "agents_total",
  "agents_idle",
  "agents_working",
  "failure_rate_percent",
  "alerts_active",
};

} // namespace

std::string_view to_string(metric x) noexcept {
  return metric_names[static_cast<size_t>(x)];
}

bool from_string(std::string_view in, metric& out) noexcept {
  for (size_t i = 0; i < metric_names.size(); ++i) {
    if (metric_names[i] == in) {
      out = static_cast<metric>(i);
      return true;
    }
  }
  return false;
}

monitor::monitor(monitor_settings s) : settings_(s), rules_(s.thresholds) {
  settings_.retention = std::max<size_t>(1, settings_.retention);
}

void monitor::set_probe(std::function<runtime::resource_reading()> probe) {
  std::lock_guard<std::mutex> guard{probe_mtx_};
  probe_ = std::move(probe);
}

runtime::resource_reading monitor::read_resources() {
  std::lock_guard<std::mutex> guard{probe_mtx_};
  return probe_ ? probe_() : sampler_.sample();
}

void monitor::sample(const runtime::resource_reading& res, const hive_status& st,
                     const task_activity& activity, const event_bus& bus, timestamp_ms now) {
  auto recent = activity.window(settings_.interval_secs, now);
  auto failures = activity.window(failure_window_secs, now);

  metrics_snapshot snap;
  snap.at = now;
  snap[metric::cpu_percent] = res.cpu_percent;
  snap[metric::memory_percent] = res.memory_percent;
  snap[metric::resident_memory_bytes] = res.resident_bytes;
  snap[metric::open_fds] = res.open_fds;
  snap[metric::tasks_submitted_per_sec] = recent.submitted_per_sec;
  snap[metric::tasks_completed_per_sec] = recent.completed_per_sec;
  snap[metric::tasks_failed_per_sec] = recent.failed_per_sec;
  snap[metric::task_latency_p50_ms] = recent.latency.p50_ms;
  snap[metric::task_latency_p95_ms] = recent.latency.p95_ms;
  snap[metric::task_latency_p99_ms] = recent.latency.p99_ms;
  uint64_t depth = 0;
  for (auto d : st.queue_depth_by_priority)
    depth += d;
  snap[metric::queue_depth] = static_cast<double>(depth);
  uint64_t unfinished = 0;
  for (int i = 0; i < task_status_count; ++i)
    if (!is_terminal(static_cast<task_status>(i)))
      unfinished += st.tasks_by_status[i];
  double queue_fill = settings_.queue_max == 0 ? 0
                                                : static_cast<double>(unfinished) * 100.0
                                                    / static_cast<double>(settings_.queue_max);
  snap[metric::queue_fill_percent] = queue_fill;
  snap[metric::tasks_running] = static_cast<double>(st.running_tasks);
  snap[metric::live_task_actors] = static_cast<double>(st.live_task_actors);
  snap[metric::agents_total] = static_cast<double>(st.agents_total);
  snap[metric::agents_idle] =
    static_cast<double>(st.agents_by_state[static_cast<size_t>(agent_state::idle)]);
  snap[metric::agents_working] =
    static_cast<double>(st.agents_by_state[static_cast<size_t>(agent_state::working)]);
  auto finished = failures.completed + failures.failed;
  std::optional<double> failure_rate;
  if (finished > 0)
    snap[metric::failure_rate_percent] =
      static_cast<double>(failures.failed) * 100.0 / static_cast<double>(finished);
  // Too few finished tasks to judge, unless none at all: an idle hive fails nothing, which
  // also resolves a failure-rate alert raised before it went quiet.
  if (finished >= settings_.thresholds.failure_rate_min_tasks || finished == 0)
    failure_rate = snap[metric::failure_rate_percent];

  alert_reading reading;
  reading.cpu_percent = res.cpu_percent;
  if (res.memory_limit_bytes > 0 || res.memory_percent > 0)
    reading.memory_percent = res.memory_percent;
  reading.queue_percent = queue_fill;
  reading.failure_rate_percent = failure_rate;

  std::vector<alert_change> changes;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    changes = rules_.evaluate(reading, now);
    snap[metric::alerts_active] = static_cast<double>(rules_.active().size());
    if (ring_.size() < settings_.retention) {
      ring_.push_back(snap);
    } else {
      ring_[next_] = snap;
      next_ = (next_ + 1) % ring_.size();
    }
    last_ = res;
  }

  if (!bus.has_subscribers())
    return;
  hive_event ev;
  ev.type = event_type::metrics_snapshot;
  ev.at = now;
  ev.snapshot = std::make_shared<const metrics_snapshot>(snap);
  bus.publish(ev);
  for (auto& c : changes) {
    hive_event a;
    a.type = c.raised ? event_type::alert_raised : event_type::alert_resolved;
    a.at = now;
    a.alert_info = std::make_shared<const alert>(std::move(c.what));
    bus.publish(a);
  }
}

std::vector<metrics_snapshot> monitor::history(timestamp_ms since) const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<metrics_snapshot> out;
  // Oldest first: from next_ (the oldest once the ring wrapped) around to next_ - 1.
  for (size_t k = 0; k < ring_.size(); ++k) {
    const auto& s = ring_[(next_ + k) % ring_.size()];
    if (s.at >= since)
      out.push_back(s);
  }
  return out;
}

std::vector<alert> monitor::active_alerts() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return rules_.active();
}

std::vector<alert> monitor::recent_alerts() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return rules_.recent();
}

std::optional<runtime::resource_reading> monitor::last_resources() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return last_;
}

// -- the actor ---------------------------------------------------------------------

namespace {

struct monitor_actor_state {
  static inline const char* name = "hive.monitor";
};

caf::behavior monitor_actor(caf::stateful_actor<monitor_actor_state>* self,
                            std::shared_ptr<monitor> mon, context_ptr ctx,
                            caf::actor scheduler) {
  auto interval = std::chrono::seconds{mon->settings().interval_secs};
  self->delayed_send(self, interval, tick_atom::value);
  return {
    [=](tick_atom) {
      self->delayed_send(self, interval, tick_atom::value);
      // Read /proc here, off the scheduler; the snapshot is built when the status comes back.
      auto res = mon->read_resources();
      self->send(scheduler, status_msg{[mon, ctx, res](result<hive_status> st) {
                   if (st)
                     mon->sample(res, *st, *ctx->activity, ctx->events, ctx->now());
                 }});
    },
    [=](stop_atom) { self->quit(); },
  };
}

} // namespace

caf::actor spawn_monitor(caf::actor_system& sys, std::shared_ptr<monitor> mon, context_ptr ctx,
                         caf::actor scheduler) {
  return sys.spawn(monitor_actor, std::move(mon), std::move(ctx), std::move(scheduler));
}

} // namespace hive::actors
