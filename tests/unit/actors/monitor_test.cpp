// Monitoring: rolling activity windows, alert rules with hysteresis, and the monitor's
// snapshots, history ring and published events.
#include "actors/monitor.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "actors/alerts.hpp"
#include "actors/engine.hpp"
#include "actors/event_bus.hpp"
#include "actors/task_activity.hpp"

using namespace hive;
using namespace hive::actors;

namespace {

constexpr timestamp_ms t0 = 1'700'000'000'000;

task_record finished_task(timestamp_ms created, timestamp_ms started, timestamp_ms finished) {
  task_record t;
  t.created_at = created;
  t.started_at = started;
  t.finished_at = finished;
  return t;
}

} // namespace

TEST(LatencyHistogram, PercentilesWithinFourPercent) {
  latency_histogram h;
  for (int ms = 1; ms <= 1000; ++ms)
    h.add(ms);
  auto s = h.summary();
  EXPECT_EQ(s.count, 1000u);
  EXPECT_NEAR(s.mean_ms, 500.5, 0.01);
  EXPECT_NEAR(s.p50_ms, 500, 500 * 0.04);
  EXPECT_NEAR(s.p90_ms, 900, 900 * 0.04);
  EXPECT_NEAR(s.p99_ms, 990, 990 * 0.04);
}

TEST(LatencyHistogram, ExtremesLandInTheEndBuckets) {
  EXPECT_EQ(latency_histogram::bucket_of(0), 0u);
  EXPECT_EQ(latency_histogram::bucket_of(-5), 0u);
  EXPECT_EQ(latency_histogram::bucket_of(1e12), latency_histogram::buckets - 1);
  // An hour still has its own bucket (the last is for anything beyond).
  EXPECT_LT(latency_histogram::bucket_of(3'600'000), latency_histogram::buckets - 1);
}

TEST(TaskActivity, RatesOverTheWindowAndOnlyWithinIt) {
  task_activity a{t0};
  task_record t;
  // 120 submissions and 60 completions in the first two minutes, 1 per second / 2 s.
  for (int s = 0; s < 120; ++s) {
    a.record(event_type::task_created, t, t0 + s * 1000);
    if (s % 2 == 0)
      a.record(event_type::task_completed,
               finished_task(t0 + s * 1000 - 40, t0 + s * 1000 - 10, t0 + s * 1000), t0 + s * 1000);
  }
  a.record(event_type::task_failed, t, t0 + 119'000);
  a.record(event_type::task_cancelled, t, t0 + 119'500);
  auto now = t0 + 119'999;
  auto w1 = a.window(60, now);
  EXPECT_EQ(w1.secs, 60u);
  EXPECT_EQ(w1.submitted, 60u);
  EXPECT_EQ(w1.completed, 30u);
  EXPECT_EQ(w1.failed, 1u);
  EXPECT_EQ(w1.cancelled, 1u);
  EXPECT_DOUBLE_EQ(w1.submitted_per_sec, 1.0);
  EXPECT_DOUBLE_EQ(w1.completed_per_sec, 0.5);
  EXPECT_NEAR(w1.latency.p50_ms, 40, 2);
  EXPECT_NEAR(w1.run_time.p99_ms, 10, 0.5);
  // Five minutes after start only two minutes exist: the window says so.
  auto w5 = a.window(300, now);
  EXPECT_EQ(w5.secs, 120u);
  EXPECT_EQ(w5.submitted, 120u);
  EXPECT_DOUBLE_EQ(w5.submitted_per_sec, 1.0);
  // Twenty minutes later it has all rolled out of the 15-minute horizon.
  auto later = a.window(900, now + 20 * 60'000);
  EXPECT_EQ(later.submitted, 0u);
  EXPECT_EQ(later.latency.count, 0u);
}

TEST(TaskActivity, OldSlotsAreReusedNotSummed) {
  task_activity a{t0};
  task_record t;
  a.record(event_type::task_created, t, t0);
  // Exactly one ring length later the same slot index is reused for a new second.
  auto later = t0 + (task_activity::horizon_secs + 1) * 1000;
  a.record(event_type::task_created, t, later);
  EXPECT_EQ(a.window(10, later).submitted, 1u);
}

TEST(AlertRules, RaisedOnceResolvedBelowTheHysteresisBand) {
  alert_thresholds t;
  t.cpu_warning = 70;
  t.cpu_critical = 90;
  t.hysteresis = 5;
  alert_rules rules{t};
  alert_reading r;
  r.cpu_percent = 50;
  EXPECT_TRUE(rules.evaluate(r, t0).empty());
  r.cpu_percent = 75;
  auto up = rules.evaluate(r, t0 + 1);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_TRUE(up[0].raised);
  EXPECT_EQ(up[0].what.id, "cpu_warning");
  EXPECT_EQ(up[0].what.kind, alert_kind::cpu);
  EXPECT_DOUBLE_EQ(up[0].what.value, 75);
  EXPECT_NE(up[0].what.message.find("75.0%"), std::string::npos) << up[0].what.message;
  // Still high: no repeat. Just below the threshold but inside the band: still active.
  EXPECT_TRUE(rules.evaluate(r, t0 + 2).empty());
  r.cpu_percent = 67;
  EXPECT_TRUE(rules.evaluate(r, t0 + 3).empty());
  EXPECT_EQ(rules.active().size(), 1u);
  // Above critical: the critical alert joins the warning.
  r.cpu_percent = 95;
  auto crit = rules.evaluate(r, t0 + 4);
  ASSERT_EQ(crit.size(), 1u);
  EXPECT_EQ(crit[0].what.id, "cpu_critical");
  EXPECT_EQ(rules.active().size(), 2u);
  // Below both bands: both resolve, and are remembered as recent.
  r.cpu_percent = 60;
  auto down = rules.evaluate(r, t0 + 5);
  ASSERT_EQ(down.size(), 2u);
  EXPECT_FALSE(down[0].raised);
  EXPECT_FALSE(down[1].raised);
  EXPECT_EQ(down[0].what.resolved_at, t0 + 5);
  EXPECT_TRUE(rules.active().empty());
  ASSERT_EQ(rules.recent().size(), 2u);
  EXPECT_EQ(rules.recent()[0].raised_at, t0 + 4) << "newest first";
}

TEST(AlertRules, MissingReadingsLeaveAlertsAsTheyAre) {
  alert_rules rules{alert_thresholds{}};
  alert_reading r;
  r.failure_rate_percent = 30;
  ASSERT_EQ(rules.evaluate(r, t0).size(), 2u); // warning 10 and critical 25
  alert_reading none;
  EXPECT_TRUE(rules.evaluate(none, t0 + 1).empty());
  EXPECT_EQ(rules.active().size(), 2u);
}

TEST(Monitor, SnapshotsFillTheRingAndAreQueriedByTime) {
  monitor_settings s;
  s.retention = 3;
  s.queue_max = 100;
  monitor mon{s};
  task_activity activity{t0};
  event_bus bus;
  std::vector<hive_event> seen;
  bus.subscribe([&](const hive_event& ev) { seen.push_back(ev); });
  hive_status st;
  st.tasks_by_status[static_cast<size_t>(task_status::queued)] = 85;
  st.queue_depth_by_priority[0] = 85;
  runtime::resource_reading res;
  res.cpu_percent = 12.5;
  res.memory_percent = 1;
  res.memory_limit_bytes = 1e9;
  for (int i = 0; i < 5; ++i)
    mon.sample(res, st, activity, bus, t0 + i * 10'000);
  auto all = mon.history(0);
  ASSERT_EQ(all.size(), 3u) << "the ring keeps `retention` snapshots";
  EXPECT_EQ(all.front().at, t0 + 20'000) << "oldest first";
  EXPECT_EQ(all.back().at, t0 + 40'000);
  EXPECT_EQ(mon.history(t0 + 35'000).size(), 1u);
  EXPECT_DOUBLE_EQ(all.back()[metric::cpu_percent], 12.5);
  EXPECT_DOUBLE_EQ(all.back()[metric::queue_depth], 85);
  EXPECT_DOUBLE_EQ(all.back()[metric::queue_fill_percent], 85);
  // 85% of queue_max raised the queue warning once, at the first snapshot.
  ASSERT_EQ(seen.size(), 6u); // 5 snapshots + 1 alert
  EXPECT_EQ(seen[0].type, event_type::metrics_snapshot);
  EXPECT_EQ(seen[1].type, event_type::alert_raised);
  ASSERT_TRUE(seen[1].alert_info);
  EXPECT_EQ(seen[1].alert_info->id, "queue_warning");
  EXPECT_DOUBLE_EQ(all.back()[metric::alerts_active], 1);
  ASSERT_TRUE(mon.last_resources());
  EXPECT_DOUBLE_EQ(mon.last_resources()->cpu_percent, 12.5);
}

TEST(Monitor, FailureRateNeedsEnoughFinishedTasks) {
  monitor_settings s;
  monitor mon{s};
  task_activity activity{t0};
  event_bus bus;
  task_record t;
  for (int i = 0; i < 10; ++i)
    activity.record(event_type::task_failed, t, t0 + 1000);
  hive_status st;
  mon.sample({}, st, activity, bus, t0 + 2000);
  EXPECT_TRUE(mon.active_alerts().empty()) << "10 failures are too few to judge";
  for (int i = 0; i < 10; ++i)
    activity.record(event_type::task_completed, finished_task(t0, t0, t0 + 1500), t0 + 1500);
  mon.sample({}, st, activity, bus, t0 + 3000);
  auto active = mon.active_alerts();
  ASSERT_EQ(active.size(), 2u); // 50% failed: warning and critical
  EXPECT_DOUBLE_EQ(active[0].value, 50);
  EXPECT_DOUBLE_EQ(mon.history(0).back()[metric::failure_rate_percent], 50);
}

TEST(Monitor, ProbeReplacesProcReadings) {
  monitor mon{monitor_settings{}};
  auto real = mon.read_resources();
  EXPECT_GT(real.resident_bytes, 0) << "/proc is readable here";
  mon.set_probe([] {
    runtime::resource_reading r;
    r.cpu_percent = 99;
    return r;
  });
  EXPECT_DOUBLE_EQ(mon.read_resources().cpu_percent, 99);
  mon.set_probe({});
  EXPECT_LE(mon.read_resources().cpu_percent, 100);
}

TEST(Metric, NamesRoundTrip) {
  for (int i = 0; i < metric_count; ++i) {
    metric m{};
    ASSERT_TRUE(from_string(to_string(static_cast<metric>(i)), m));
    EXPECT_EQ(static_cast<int>(m), i);
  }
  metric m{};
  EXPECT_FALSE(from_string("nope", m));
}

TEST(TaskActivity, EarlyWindowsReachBackToTheStartSecond) {
  // Started late in one second, asked early in the next: both seconds count.
  task_activity a{t0 + 900};
  task_record t;
  a.record(event_type::task_created, t, t0 + 950);
  auto w = a.window(60, t0 + 1050);
  EXPECT_EQ(w.secs, 2u);
  EXPECT_EQ(w.submitted, 1u);
}
