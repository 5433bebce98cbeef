// The REST API of Hive (/health, /ready, /metrics, /api/agents, /api/tasks, /api/hive/status).
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "runtime/cluster_view.hpp"

#include "net/http_types.hpp"
#include "net/json_codec.hpp"

namespace hive::actors {
class engine;
} // namespace hive::actors

namespace hive::runtime {
class metrics_registry;
} // namespace hive::runtime

namespace hive::net {

struct api_options {
  size_t max_batch = 1000; ///< tasks per POST /api/tasks/batch
  codec_limits limits;
  /// Where request metrics go and what GET /metrics renders; null: /metrics answers 404 and
  /// nothing is counted. Must outlive the handler.
  runtime::metrics_registry* metrics = nullptr;
  /// Run before each scrape to refresh the gauges read at scrape time; it calls its argument
  /// (on any thread, exactly once) when they are fresh. Optional.
  std::function<void(std::function<void()>)> refresh_metrics;
  /// The Lua scripts behind /api/scripts; null: those routes answer 404 (a build without Lua).
  /// Must outlive the handler.
  actors::scripting::script_catalog* scripts = nullptr;
  /// The cluster's nodes (GET /api/cluster/nodes); nullopt or unset: not in cluster mode.
  std::function<std::optional<std::vector<runtime::cluster_member>>()> cluster_members;
  size_t max_script_bytes = 1 << 20;
};

/// Builds the handler the HTTP server calls for every request. `core` must outlive it.
/// Runs on I/O threads; it decodes and validates the request there and answers from the
/// engine's callback.
http_handler make_api_handler(actors::engine& core, api_options opts = {});

} // namespace hive::net
