// JSON <-> core structs for the HTTP API: validating decoders and encoders (RapidJSON).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "actors/engine.hpp"
#include "actors/learning_report.hpp"
#include "actors/scripting/scripts.hpp"
#include "runtime/cluster_view.hpp"
#include "runtime/error.hpp"
#include "runtime/model.hpp"

namespace hive::net {

/// Limits the decoders enforce.
struct codec_limits {
  size_t max_name_bytes = 200;
  size_t max_capabilities = 64;
  size_t max_dependencies = 256;
  uint32_t max_retries = 100;
  uint32_t max_concurrency = 10000;
  size_t max_json_depth = 64; ///< nesting of payload and metadata objects
};

/// Decodes a task submission. Accepts Hive's body and the predecessor's
/// (`{"description","type","priority":"low"}`). `prefix` is prepended to field names in errors
/// (e.g. "tasks[3]."). Errors: malformed_json (not JSON / not an object) or invalid_field.
result<task_record> decode_task(std::string_view body, std::string_view header_key = {},
                                const codec_limits& limits = {});
/// Decodes POST /api/tasks/batch: `{"tasks":[...]}` or a bare array.
result<std::vector<task_record>> decode_task_batch(std::string_view body, size_t max_batch,
                                                   const codec_limits& limits = {});
/// Decodes an agent creation (`type` or its alias `agent_type`).
result<agent_record> decode_agent(std::string_view body, const codec_limits& limits = {});
/// Decodes PATCH /api/agents/{id}.
result<agent_patch> decode_agent_patch(std::string_view body, const codec_limits& limits = {});

std::string encode_task(const task_record& task);
std::string encode_tasks(const std::vector<task_record>& tasks);
std::string encode_agent(const agent_record& agent);
std::string encode_agents(const std::vector<agent_record>& agents);
std::string encode_events(const std::vector<task_event>& events);
std::string encode_status(const actors::hive_status& status);

/// A `metrics_snapshot` event's data: every metric by name, plus `ts`.
std::string encode_snapshot(const actors::metrics_snapshot& snap);
std::string encode_alert(const actors::alert& a);
/// A `learning_cycle_completed` event's report.
std::string encode_learning(const actors::learning_report& r);
/// GET /api/alerts: `{"active":[...],"recent":[...]}`.
std::string encode_alerts(const std::vector<actors::alert>& active,
                          const std::vector<actors::alert>& recent);

/// POST /api/scripts: `{"name": ..., "source": ...}` (the name is checked by the catalog).
result<std::pair<std::string, std::string>> decode_script(std::string_view body,
                                                          size_t max_source_bytes);
/// A script: name, task_types, updated_at, and with `with_source` its source.
std::string encode_script(const actors::scripting::script& s, bool with_source);
/// `{"scripts":[encode_script(s, false), ...]}`.
std::string encode_scripts(const std::vector<actors::scripting::script>& all);

/// GET /api/cluster/nodes: `{"enabled": bool, "nodes": [...]}` (no nodes when not in cluster
/// mode).
std::string encode_cluster(const std::optional<std::vector<runtime::cluster_member>>& members);

/// A stored model or dataset: `{"name","updated_at","info":{...}}`, and with `with_data` the
/// document itself as `"data"` (a dataset's rows).
std::string encode_object(const persistence::stored_object& o, bool with_data);
/// `{"<key>":[encode_object(o, false), ...]}`.
std::string encode_objects(std::string_view key, const std::vector<persistence::stored_object>& all);

/// What GET /metrics/history shows.
struct history_view {
  uint32_t interval_secs = 0;
  uint64_t range_secs = 0;
  std::vector<actors::metric> metrics; ///< the columns asked for
  std::vector<actors::metrics_snapshot> points;
};
std::string encode_history(const history_view& h);

/// Parses a duration such as "90s", "15m", "1h", "7d" (or plain seconds) into seconds.
result<uint64_t> decode_duration(std::string_view text, std::string_view field);

/// ISO 8601 UTC with milliseconds ("2026-11-27T17:00:00.123Z").
std::string format_time(timestamp_ms at);

} // namespace hive::net
