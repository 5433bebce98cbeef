// Task activity: fixed rings of slots, overwritten as time moves on.
#include "actors/task_activity.hpp"

#include <algorithm>
#include <cmath>

#include "actors/event_bus.hpp"

namespace hive::actors {
namespace {

constexpr double min_ms = 0.1;
const double log_step = std::log(1.08);

} // namespace

size_t latency_histogram::bucket_of(double ms) noexcept {
  if (!(ms > min_ms))
    return 0;
  auto i = static_cast<size_t>(std::log(ms / min_ms) / log_step) + 1;
  return std::min(i, buckets - 1);
}

double latency_histogram::value_of(size_t bucket) noexcept {
  if (bucket == 0)
    return min_ms;
  // Bucket i (> 0) holds (0.1 * 1.08^(i-1), 0.1 * 1.08^i]: report its geometric middle.
  return min_ms * std::exp(log_step * (static_cast<double>(bucket) - 0.5));
}

void latency_histogram::add(double ms) noexcept {
  ++counts_[bucket_of(ms)];
  ++count_;
  sum_ms_ += std::max(0.0, ms);
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  for (size_t i = 0; i < buckets; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ms_ += other.sum_ms_;
}

void latency_histogram::clear() noexcept {
  counts_.fill(0);
  count_ = 0;
  sum_ms_ = 0;
}

latency_summary latency_histogram::summary() const noexcept {
  latency_summary out;
  out.count = count_;
  if (count_ == 0)
    return out;
  out.mean_ms = sum_ms_ / static_cast<double>(count_);
  // The smallest bucket at or past each rank.
  auto rank = [this](double q) {
    return std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  };
  const std::array<std::pair<uint64_t, double*>, 4> wanted{{{rank(0.50), &out.p50_ms},
                                                            {rank(0.90), &out.p90_ms},
                                                            {rank(0.95), &out.p95_ms},
                                                            {rank(0.99), &out.p99_ms}}};
  uint64_t seen = 0;
  size_t next = 0;
  for (size_t i = 0; i < buckets && next < wanted.size(); ++i) {
    seen += counts_[i];
    while (next < wanted.size() && seen >= wanted[next].first)
      *wanted[next++].second = value_of(i);
  }
  return out;
}

task_activity::task_activity(timestamp_ms started_at)
  : started_at_(started_at), seconds_(horizon_secs + 1),
    periods_(horizon_secs / period_secs + 2) {}

task_activity::second_slot& task_activity::second_at(int64_t second) {
  auto& slot = seconds_[static_cast<size_t>(second) % seconds_.size()];
  if (slot.second != second)
    slot = second_slot{second};
  return slot;
}

task_activity::latency_slot& task_activity::period_at(int64_t period) {
  auto& slot = periods_[static_cast<size_t>(period) % periods_.size()];
  if (slot.period != period) {
    slot.period = period;
    slot.latency.clear();
    slot.run_time.clear();
  }
  return slot;
}

void task_activity::record(event_type type, const task_record& task, timestamp_ms now) {
  if (now < 0)
    return;
  int64_t second = now / 1000;
  std::lock_guard<std::mutex> guard{mtx_};
  switch (type) {
    case event_type::task_created:
      ++second_at(second).submitted;
      return;
    case event_type::task_completed: {
      ++second_at(second).completed;
      auto& slot = period_at(second / period_secs);
      if (task.created_at > 0 && task.finished_at >= task.created_at)
        slot.latency.add(static_cast<double>(task.finished_at - task.created_at));
      if (task.started_at > 0 && task.finished_at >= task.started_at)
        slot.run_time.add(static_cast<double>(task.finished_at - task.started_at));
      return;
    }
    case event_type::task_failed:
    case event_type::task_dead:
      ++second_at(second).failed;
      return;
    case event_type::task_cancelled:
      ++second_at(second).cancelled;
      return;
    default:
      return;
  }
}

activity_window task_activity::window(uint32_t secs, timestamp_ms now) const {
  secs = std::clamp<uint32_t>(secs, 1, horizon_secs);
  // Whole seconds, the current one included. Right after start the window only reaches back
  // to the second the server started in.
  int64_t last = now / 1000;
  int64_t since_start = std::max<int64_t>(1, last - started_at_ / 1000 + 1);
  activity_window out;
  out.secs = static_cast<uint32_t>(std::min<int64_t>(secs, since_start));
  int64_t first = last - out.secs + 1;
  latency_histogram latency, run_time;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (const auto& s : seconds_) {
      if (s.second < first || s.second > last)
        continue;
      out.submitted += s.submitted;
      out.completed += s.completed;
      out.failed += s.failed;
      out.cancelled += s.cancelled;
    }
    for (const auto& p : periods_) {
      if (p.period < 0 || p.period < first / period_secs || p.period > last / period_secs)
        continue;
      latency.merge(p.latency);
      run_time.merge(p.run_time);
    }
  }
  auto span = static_cast<double>(out.secs);
  out.submitted_per_sec = static_cast<double>(out.submitted) / span;
  out.completed_per_sec = static_cast<double>(out.completed) / span;
  out.failed_per_sec = static_cast<double>(out.failed) / span;
  out.latency = latency.summary();
  out.run_time = run_time.summary();
  return out;
}

} // namespace hive::actors
