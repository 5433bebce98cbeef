// Metrics of the store's write-behind committer, fed by its commit observer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hive::actors {

/// Registers hive_store_commits_total, hive_store_commit_failures_total,
/// hive_store_commit_batch_size, hive_store_commit_seconds, hive_store_held_rows,
/// hive_store_given_up_total and hive_store_write_lanes in `registry`, which must outlive this
/// object and every observer it hands out.
class store_metrics {
public:
  explicit store_metrics(prometheus::Registry& registry);
  ~store_metrics();

  store_metrics(const store_metrics&) = delete;
  store_metrics& operator=(const store_metrics&) = delete;

  /// Records one transaction (what the observer does; runs on the writer thread).
  void on_commit(size_t items, double seconds, bool ok);

  /// An observer for engine::set_commit_observer; it shares this object's state.
  std::function<void(size_t, double, bool)> observer();

  /// Sets the writer's gauges (at scrape): rows held through an outage, writes given up so
  /// far, write lanes.
  void update(uint64_t held_rows, uint64_t given_up, size_t lanes);

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace hive::actors
