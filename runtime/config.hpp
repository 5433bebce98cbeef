// Hive's settings: typed sections, loaded as defaults < config file < HIVE_* env < flags.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.hpp"

namespace hive::runtime {

struct server_config {
  std::string host;
  uint16_t port = 0;
  uint32_t max_connections = 0;
  uint32_t keep_alive_timeout_secs = 0;
  uint32_t request_timeout_secs = 0;
  uint64_t max_body_bytes = 0;
  uint32_t io_threads = 0; ///< resolved: never 0 after load
  uint32_t shutdown_grace_secs = 0;
};

struct performance_config {
  uint32_t worker_threads = 0;  ///< resolved: never 0 after load
  std::string scheduler_policy; ///< "stealing" or "sharing"
  uint32_t async_tasks_max = 0; ///< bound on live task actors
  uint32_t max_agents = 0;
  uint32_t cache_size_mb = 0; ///< the store's page cache
  // Alert thresholds, in percent.
  uint32_t cpu_warning_threshold = 0;
  uint32_t cpu_critical_threshold = 0;
  uint32_t memory_warning_threshold = 0;
  uint32_t memory_critical_threshold = 0;
  uint32_t queue_warning_threshold = 0; ///< of tasks.queue_max
  uint32_t queue_critical_threshold = 0;
  uint32_t failure_rate_warning_threshold = 0;
  uint32_t failure_rate_critical_threshold = 0;
  uint32_t alert_hysteresis = 0; ///< percentage points below a threshold to resolve
};

struct tasks_config {
  uint32_t queue_max = 0;          ///< bound on admitted, unfinished tasks
  uint32_t default_timeout_ms = 0;
  uint32_t max_timeout_ms = 0;
  uint32_t retry_base_ms = 0;
  uint32_t retry_max_ms = 0;
  uint32_t aging_ms = 0; ///< waiting this long raises a task one priority level
  uint32_t max_batch = 0; ///< tasks per POST /api/tasks/batch
};

struct database_config {
  std::string url; ///< sqlite://PATH, postgresql://... or memory://
  std::string synchronous; ///< "full" or "normal" (SQLite)
  uint32_t commit_batch_max = 0;
  uint32_t write_lanes = 0; ///< group-commit writers; 0: the store's choice
  // PostgreSQL connection pool.
  uint32_t max_connections = 0;
  uint32_t min_connections = 0;
  uint32_t connection_timeout_secs = 0; ///< waiting for a connection (pool full or connecting)
  uint32_t statement_timeout_secs = 0;
  uint32_t pool_recycle_secs = 0; ///< connections older than this are replaced
};

struct metrics_config {
  bool enabled = true; ///< false: no instrumentation runs and GET /metrics answers 404
  uint32_t history_interval_secs = 0; ///< between snapshots (history, alerts, WS)
  uint32_t history_retention = 0;     ///< snapshots kept
};

struct websocket_config {
  uint32_t max_connections = 0;
  uint64_t max_message_bytes = 0;
  uint32_t send_queue_max = 0;
  uint32_t drop_after_missed = 0;
  uint32_t idle_timeout_secs = 0;
};

struct neural_config {
  std::string mode;           ///< basic (heuristic), fann, cuda, auto
  uint32_t retrain_every = 0; ///< outcomes between training runs of the routing network
  uint32_t epochs = 0;        ///< per training run
  uint32_t learning_interval_secs = 0; ///< a run also starts this long after the last one
  uint32_t min_training_gap_ms = 0;    ///< runs start at least this far apart
  uint32_t candidates = 0;    ///< eligible agents scored per routing decision at most
  uint32_t gpu_batch_min = 0; ///< candidates from which one GPU batch scores them
};

struct log_config {
  std::string level;  ///< debug, info, warn, error
  std::string format; ///< text or json
  std::string access; ///< which HTTP requests get an access line: off, errors (>= 400), all
};

/// Every setting of a running Hive. Built only by `load_config` (or `default_config`).
struct scripting_config {
  uint32_t max_memory_mb = 0;      ///< per Lua state
  uint64_t max_instructions = 0;   ///< per handler call
  std::string dir;                 ///< *.lua files loaded and watched ("" = none)
  uint32_t watch_interval_ms = 0;  ///< how often dir is checked for changes
};

struct cluster_config {
  bool enabled = false;
  std::string node_id;             ///< unique per node (CAF's own ids can collide in containers)
  std::string host;                ///< the address other nodes reach this one at
  uint16_t port = 0;               ///< the node actor is published here (CAF io)
  std::vector<std::string> seeds;  ///< host:port of nodes to join through
  std::string secret;              ///< shared by every node; a join without it is refused
  uint32_t heartbeat_interval_ms = 0;
  uint32_t failure_timeout_ms = 0; ///< no heartbeat for this long: the node is offline
  // TLS between nodes (CAF's OpenSSL module): all three or none.
  std::string tls_certificate; ///< this node's certificate (PEM)
  std::string tls_key;         ///< its private key (PEM, unencrypted)
  std::string tls_ca_file;     ///< the CA that signed every node's certificate (PEM)
  bool tls() const noexcept { return !tls_certificate.empty(); }
};

struct config {
  server_config server;
  performance_config performance;
  tasks_config tasks;
  database_config database;
  log_config log;
  metrics_config metrics;
  websocket_config websocket;
  neural_config neural;
  scripting_config scripting;
  cluster_config cluster;
  std::string config_file; ///< the file that was read, if any
  std::vector<std::string> warnings; ///< e.g. unknown HIVE_ variables, reported at start
};

/// One row of the settings table, for --help and docs.
struct setting_info {
  std::string_view section;
  std::string_view key;
  std::string_view default_value;
  std::string_view help;
  std::string env_name() const; ///< HIVE_<SECTION>__<KEY>
};

/// All settings, in the order --help lists them.
const std::vector<setting_info>& settings();

/// The defaults alone.
config default_config();

/// Inputs to `load_config`; separated from the process so tests can pass their own.
struct config_sources {
  std::string file_path;                 ///< empty: none (unless HIVE_CONFIG names one)
  std::vector<std::string> environment;  ///< "NAME=value" strings
  std::vector<std::string> flags;        ///< "section.key=value" overrides
};

/// Applies defaults, then the file, then HIVE_* variables, then flags, and validates each value.
/// A bad value is an error naming the setting (and where it came from).
result<config> load_config(const config_sources& sources);

/// Sets one value by section and key, validating it (used by all layers of load_config).
result<unit_t> set_value(config& cfg, std::string_view section, std::string_view key,
                         std::string_view value);

/// The `environ` of this process as "NAME=value" strings.
std::vector<std::string> process_environment();

} // namespace hive::runtime
