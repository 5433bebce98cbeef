// Rolling figures of the work done: tasks per second and latency percentiles over the last
// 1, 5 and 15 minutes (for /api/hive/status, metrics snapshots and the failure-rate alert).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "runtime/model.hpp"

namespace hive::actors {

enum class event_type : uint8_t;

struct latency_summary {
  uint64_t count = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
};

/// What happened in the last `secs` seconds (fewer right after start: `secs` says how many).
struct activity_window {
  uint32_t secs = 0;
  uint64_t submitted = 0;
  uint64_t completed = 0;
  uint64_t failed = 0; ///< failed or dead
  uint64_t cancelled = 0;
  double submitted_per_sec = 0;
  double completed_per_sec = 0;
  double failed_per_sec = 0;
  latency_summary latency;  ///< submission to completion of completed tasks
  latency_summary run_time; ///< start to completion of the completing attempt
};

/// The windows /api/hive/status shows.
inline constexpr std::array<uint32_t, 3> status_windows_secs{60, 300, 900};

/// Log-scale latency histogram: 8% wide buckets from 0.1 ms to an hour, so a percentile is
/// within 4% of the true value.
class latency_histogram {
public:
  static constexpr size_t buckets = 230;

  void add(double ms) noexcept;
  void merge(const latency_histogram& other) noexcept;
  void clear() noexcept;
  latency_summary summary() const noexcept;

  /// Index of the bucket that counts `ms`, and a representative value of a bucket.
  static size_t bucket_of(double ms) noexcept;
  static double value_of(size_t bucket) noexcept;

private:
  std::array<uint32_t, buckets> counts_{};
  uint64_t count_ = 0;
  double sum_ms_ = 0;
};

/// Round trips of run requests since start, from the task's actor to the agent's and back (the
/// executor's own time included): agents on this node and agents on other nodes. Values are
/// microseconds (the histogram's "ms" fields then read as microseconds). Thread-safe.
class dispatch_timing {
public:
  void record(bool remote, double micros) noexcept {
    std::lock_guard<std::mutex> guard{mtx_};
    (remote ? remote_ : local_).add(micros);
  }
  /// (local, remote)
  std::pair<latency_summary, latency_summary> summary() const noexcept {
    std::lock_guard<std::mutex> guard{mtx_};
    return {local_.summary(), remote_.summary()};
  }

private:
  mutable std::mutex mtx_;
  latency_histogram local_, remote_;
};

/// Counts task outcomes in one-second slots and latencies in ten-second slots for the last
/// 15 minutes. Thread-safe (one short lock per event); fixed memory.
class task_activity {
public:
  static constexpr uint32_t horizon_secs = 900;

  explicit task_activity(timestamp_ms started_at);

  /// Records a task event at `now` (only creation and terminal events count).
  void record(event_type type, const task_record& task, timestamp_ms now);

  /// The last `secs` seconds (at most `horizon_secs`) before `now`.
  activity_window window(uint32_t secs, timestamp_ms now) const;

private:
  struct second_slot {
    int64_t second = -1;
    uint32_t submitted = 0, completed = 0, failed = 0, cancelled = 0;
  };
  struct latency_slot {
    int64_t period = -1; ///< ten-second period
    latency_histogram latency, run_time;
  };
  static constexpr int64_t period_secs = 10;

  second_slot& second_at(int64_t second);
  latency_slot& period_at(int64_t period);

  timestamp_ms started_at_;
  mutable std::mutex mtx_;
  std::vector<second_slot> seconds_;   ///< ring indexed by second % size
  std::vector<latency_slot> periods_;  ///< ring indexed by period % size
};

} // namespace hive::actors
