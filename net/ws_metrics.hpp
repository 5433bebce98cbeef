// WebSocket metrics: connections, events sent and dropped, clients dropped for lagging.
#pragma once

#include <memory>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hive::net {

struct ws_stats;

/// Mirrors the hub's counters into the registry at scrape time. Thread-safe.
class ws_metrics {
public:
  explicit ws_metrics(prometheus::Registry& registry); ///< `registry` must outlive this
  ~ws_metrics();

  ws_metrics(const ws_metrics&) = delete;
  ws_metrics& operator=(const ws_metrics&) = delete;

  void update(const ws_stats& stats);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace hive::net
