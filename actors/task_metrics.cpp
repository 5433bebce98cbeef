// Task metrics: one cached set of series per task type, so an event costs a lookup, not a
// registry search.
#include "actors/task_metrics.hpp"

#include <array>
#include <mutex>
#include <string>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "actors/alerts.hpp"
#include "actors/learning_report.hpp"
#include "actors/engine.hpp"
#include "actors/event_bus.hpp"

namespace hive::actors {
namespace {

/// The outcomes of hive_tasks_finished_total, indexed by `outcome_index`.
constexpr std::array<const char*, 4> outcomes{"completed", "failed", "dead", "cancelled"};

int outcome_index(event_type type) noexcept {
  switch (type) {
    case event_type::task_completed:
      return 0;
    case event_type::task_failed:
      return 1;
    case event_type::task_dead:
      return 2;
    case event_type::task_cancelled:
      return 3;
    default:
      return -1;
  }
}

/// Seconds between two millisecond timestamps; -1 when either is unset or they are reversed.
double seconds_between(timestamp_ms from, timestamp_ms to) noexcept {
  if (from <= 0 || to <= 0 || to < from)
    return -1;
  return static_cast<double>(to - from) / 1000.0;
}

// Queue waits and run times range from a millisecond to hours.
const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries b{
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600};
  return b;
}

} // namespace

struct task_metrics::impl {
  /// The series of one task type.
  struct per_type {
    prometheus::Counter* submitted;
    prometheus::Counter* retries;
    std::array<prometheus::Counter*, outcomes.size()> finished;
  };

  explicit impl(prometheus::Registry& reg)
    : submitted(prometheus::BuildCounter()
                  .Name("hive_tasks_submitted_total")
                  .Help("Tasks admitted, by type.")
                  .Register(reg)),
      finished(prometheus::BuildCounter()
                 .Name("hive_tasks_finished_total")
                 .Help("Tasks that reached a terminal state, by type and outcome.")
                 .Register(reg)),
      retries(prometheus::BuildCounter()
                .Name("hive_task_retries_total")
                .Help("Tasks put back in the queue for another attempt (automatic or by "
                      "request), by type.")
                .Register(reg)),
      queue_wait(prometheus::BuildHistogram()
                   .Name("hive_task_queue_wait_seconds")
                   .Help("Time from submission to the start of a task's first attempt.")
                   .Register(reg)
                   .Add({}, latency_buckets())),
      run(prometheus::BuildHistogram()
            .Name("hive_task_run_seconds")
            .Help("Run time of the attempt that completed a task.")
            .Register(reg)
            .Add({}, latency_buckets())),
      queue_depth(prometheus::BuildGauge()
                    .Name("hive_queue_depth")
                    .Help("Tasks waiting for an agent, by priority (refreshed at scrape).")
                    .Register(reg)),
      agents(prometheus::BuildGauge()
               .Name("hive_agents")
               .Help("Registered agents, by state (refreshed at scrape).")
               .Register(reg)),
      live_actors(prometheus::BuildGauge()
                    .Name("hive_live_task_actors")
                    .Help("Task actors alive (refreshed at scrape).")
                    .Register(reg)
                    .Add({})),
      running(prometheus::BuildGauge()
                .Name("hive_tasks_running")
                .Help("Tasks an agent is executing (refreshed at scrape).")
                .Register(reg)
                .Add({})),
      restarts(prometheus::BuildCounter()
                 .Name("hive_agent_restarts_total")
                 .Help("Agent actors restarted after a crash since start (refreshed at scrape).")
                 .Register(reg)
                 .Add({})),
      alerts_raised(prometheus::BuildCounter()
                      .Name("hive_alerts_raised_total")
                      .Help("Alerts raised, by alert and severity.")
                      .Register(reg)),
      alerts_active(prometheus::BuildGauge()
                      .Name("hive_alerts_active")
                      .Help("Alerts raised and not yet resolved, by alert and severity.")
                      .Register(reg)),
      learning_cycles(prometheus::BuildCounter()
                        .Name("hive_learning_cycles_total")
                        .Help("Training runs of the routing network, by whether the result was "
                              "adopted (not worse on held-out outcomes).")
                        .Register(reg)),
      learning_loss(prometheus::BuildGauge()
                      .Name("hive_learning_validation_loss")
                      .Help("Mean squared error of the last trained routing network on "
                            "held-out outcomes.")
                      .Register(reg)
                      .Add({})),
      learning_accuracy(prometheus::BuildGauge()
                          .Name("hive_learning_validation_accuracy")
                          .Help("Share of held-out outcomes the last trained routing network "
                                "predicted.")
                          .Register(reg)
                          .Add({})),
      learning_seconds(prometheus::BuildHistogram()
                         .Name("hive_learning_cycle_seconds")
                         .Help("Time of one training run of the routing network.")
                         .Register(reg)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10})) {
    adopted_cycles = &learning_cycles.Add({{"adopted", "true"}});
    rejected_cycles = &learning_cycles.Add({{"adopted", "false"}});
    for (int k = 0; k < alert_kind_count; ++k) {
      for (int sev = 0; sev < 2; ++sev) {
        prometheus::Labels labels{{"alert", std::string{to_string(static_cast<alert_kind>(k))}},
                                  {"severity",
                                   std::string{to_string(static_cast<alert_severity>(sev))}}};
        raised[k * 2 + sev] = &alerts_raised.Add(labels);
        active[k * 2 + sev] = &alerts_active.Add(labels);
      }
    }
    for (int lvl = 0; lvl < priority_levels; ++lvl) {
      auto name = std::string{to_string(static_cast<priority>(lvl))};
      depth[lvl] = &queue_depth.Add({{"priority", name}});
    }
    for (int s = 0; s < agent_state_count; ++s)
      by_state[s] = &agents.Add({{"state", std::string{to_string(static_cast<agent_state>(s))}}});
  }

  per_type& series(const std::string& type) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = types.find(type);
    if (i != types.end())
      return i->second;
    // Types are executor names (the scheduler refuses others), so this map stays small.
    per_type fresh{};
    fresh.submitted = &submitted.Add({{"type", type}});
    fresh.retries = &retries.Add({{"type", type}});
    for (size_t k = 0; k < outcomes.size(); ++k)
      fresh.finished[k] = &finished.Add({{"type", type}, {"outcome", outcomes[k]}});
    return types.emplace(type, fresh).first->second;
  }

  prometheus::Family<prometheus::Counter>& submitted;
  prometheus::Family<prometheus::Counter>& finished;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Histogram& queue_wait;
  prometheus::Histogram& run;
  prometheus::Family<prometheus::Gauge>& queue_depth;
  prometheus::Family<prometheus::Gauge>& agents;
  prometheus::Gauge& live_actors;
  prometheus::Gauge& running;
  prometheus::Counter& restarts;
  std::array<prometheus::Gauge*, priority_levels> depth{};
  std::array<prometheus::Gauge*, agent_state_count> by_state{};
  prometheus::Family<prometheus::Counter>& alerts_raised;
  prometheus::Family<prometheus::Gauge>& alerts_active;
  std::array<prometheus::Counter*, alert_kind_count * 2> raised{}; ///< by kind * 2 + severity
  std::array<prometheus::Gauge*, alert_kind_count * 2> active{};
  prometheus::Family<prometheus::Counter>& learning_cycles;
  prometheus::Gauge& learning_loss;
  prometheus::Gauge& learning_accuracy;
  prometheus::Histogram& learning_seconds;
  prometheus::Counter* adopted_cycles = nullptr;
  prometheus::Counter* rejected_cycles = nullptr;

  std::mutex mtx; ///< guards types
  std::unordered_map<std::string, per_type> types;
  std::mutex restarts_mtx; ///< makes the read-then-increment of `restarts` one step
};

namespace {

void apply(task_metrics::impl& m, const hive_event& ev) {
  if (ev.learning) {
    const auto& r = *ev.learning;
    (r.adopted ? m.adopted_cycles : m.rejected_cycles)->Increment();
    m.learning_loss.Set(r.validation_mse_after);
    m.learning_accuracy.Set(r.validation_accuracy);
    m.learning_seconds.Observe(r.seconds);
    return;
  }
  if (ev.alert_info) {
    auto i = static_cast<size_t>(ev.alert_info->kind) * 2
             + static_cast<size_t>(ev.alert_info->severity);
    if (ev.type == event_type::alert_raised) {
      m.raised[i]->Increment();
      m.active[i]->Increment();
    } else if (ev.type == event_type::alert_resolved) {
      m.active[i]->Decrement();
    }
    return;
  }
  if (!ev.task)
    return; // an agent or snapshot event
  const auto& t = *ev.task;
  switch (ev.type) {
    case event_type::task_created:
      m.series(t.type).submitted->Increment();
      return;
    case event_type::task_started:
      // Later attempts waited for a retry too; only the first start measures the queue.
      if (t.attempts == 1)
        if (auto s = seconds_between(t.created_at, t.started_at); s >= 0)
          m.queue_wait.Observe(s);
      return;
    case event_type::task_retrying:
      m.series(t.type).retries->Increment();
      return;
    default:
      break;
  }
  auto k = outcome_index(ev.type);
  if (k < 0)
    return;
  m.series(t.type).finished[static_cast<size_t>(k)]->Increment();
  if (ev.type == event_type::task_completed)
    if (auto s = seconds_between(t.started_at, t.finished_at); s >= 0)
      m.run.Observe(s);
}

} // namespace

task_metrics::task_metrics(prometheus::Registry& registry)
  : impl_(std::make_shared<impl>(registry)) {}

task_metrics::~task_metrics() = default;

void task_metrics::subscribe(event_bus& bus) {
  bus.subscribe([state = impl_](const hive_event& ev) { apply(*state, ev); });
}

void task_metrics::on_event(const hive_event& ev) {
  apply(*impl_, ev);
}

void task_metrics::update(const hive_status& status) {
  auto& m = *impl_;
  for (int lvl = 0; lvl < priority_levels; ++lvl)
    m.depth[lvl]->Set(static_cast<double>(status.queue_depth_by_priority[lvl]));
  for (int s = 0; s < agent_state_count; ++s)
    m.by_state[s]->Set(static_cast<double>(status.agents_by_state[s]));
  m.live_actors.Set(static_cast<double>(status.live_task_actors));
  m.running.Set(static_cast<double>(status.running_tasks));
  // The scheduler counts restarts since start; the counter follows it (it only grows).
  std::lock_guard<std::mutex> guard{m.restarts_mtx};
  auto seen = m.restarts.Value();
  auto now = static_cast<double>(status.agent_restarts);
  if (now > seen)
    m.restarts.Increment(now - seen);
}

} // namespace hive::actors
