// Encoding core structs as the HTTP API's JSON (RapidJSON writer, no DOM).
#include "net/json_codec.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "runtime/clock.hpp"

namespace hive::net {
namespace {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(writer& w, const char* key, std::string_view s) {
  w.Key(key);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void put_or_null(writer& w, const char* key, std::string_view s) {
  w.Key(key);
  if (s.empty())
    w.Null();
  else
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void put_time(writer& w, const char* key, timestamp_ms at) {
  w.Key(key);
  if (at == 0) {
    w.Null();
    return;
  }
  auto text = format_time(at);
  w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
}

void put_raw(writer& w, const char* key, const std::string& json, rapidjson::Type type) {
  w.Key(key);
  if (json.empty())
    w.Null();
  else
    w.RawValue(json.c_str(), json.size(), type);
}

/// Rounded to 3 decimals: enough for rates, percentages and milliseconds.
void put_number(writer& w, const char* key, double v) {
  w.Key(key);
  if (!std::isfinite(v))
    v = 0;
  w.Double(std::round(v * 1000.0) / 1000.0);
}

void write_latency(writer& w, const actors::latency_summary& l) {
  w.StartObject();
  w.Key("count");
  w.Uint64(l.count);
  put_number(w, "mean", l.mean_ms);
  put_number(w, "p50", l.p50_ms);
  put_number(w, "p90", l.p90_ms);
  put_number(w, "p95", l.p95_ms);
  put_number(w, "p99", l.p99_ms);
  w.EndObject();
}

/// "1m", "5m", "15m".
std::string window_name(uint32_t secs) {
  return secs % 60 == 0 ? std::to_string(secs / 60) + "m" : std::to_string(secs) + "s";
}

void write_alert(writer& w, const actors::alert& a) {
  w.StartObject();
  put(w, "id", a.id);
  put(w, "name", actors::to_string(a.kind));
  put(w, "severity", actors::to_string(a.severity));
  put_number(w, "value", a.value);
  put_number(w, "threshold", a.threshold);
  put(w, "message", a.message);
  put_time(w, "raised_at", a.raised_at);
  put_time(w, "resolved_at", a.resolved_at);
  w.EndObject();
}

void write_task(writer& w, const task_record& t) {
  w.StartObject();
  put(w, "id", t.id);
  put(w, "type", t.type);
  put(w, "description", t.description);
  put_raw(w, "payload", t.payload_json, rapidjson::kObjectType);
  put(w, "priority", to_string(t.priority));
  w.Key("required_capabilities");
  w.StartArray();
  for (const auto& req : t.required_capabilities) {
    w.StartObject();
    put(w, "name", req.name);
    w.Key("min_proficiency");
    w.Double(req.min_proficiency);
    w.EndObject();
  }
  w.EndArray();
  w.Key("depends_on");
  w.StartArray();
  for (const auto& dep : t.depends_on)
    w.String(dep.c_str(), static_cast<rapidjson::SizeType>(dep.size()));
  w.EndArray();
  w.Key("timeout_ms");
  if (t.timeout_ms == 0)
    w.Null();
  else
    w.Uint(t.timeout_ms);
  w.Key("max_retries");
  w.Uint(t.max_retries);
  put_or_null(w, "idempotency_key", t.idempotency_key);
  put(w, "status", to_string(t.status));
  w.Key("attempts");
  w.Uint(t.attempts);
  put_or_null(w, "agent_id", t.agent_id);
  put_raw(w, "result", t.result_json, rapidjson::kObjectType);
  put_or_null(w, "error", t.error);
  put_time(w, "created_at", t.created_at);
  put_time(w, "updated_at", t.updated_at);
  put_time(w, "started_at", t.started_at);
  put_time(w, "finished_at", t.finished_at);
  w.EndObject();
}

void write_agent(writer& w, const agent_record& a) {
  w.StartObject();
  put(w, "id", a.id);
  put(w, "name", a.name);
  put(w, "type", to_string(a.type));
  w.Key("capabilities");
  w.StartArray();
  for (const auto& c : a.capabilities) {
    w.StartObject();
    put(w, "name", c.name);
    w.Key("proficiency");
    w.Double(c.proficiency);
    w.Key("learning_rate");
    w.Double(c.learning_rate);
    w.EndObject();
  }
  w.EndArray();
  w.Key("max_concurrency");
  w.Uint(a.max_concurrency);
  put(w, "state", to_string(a.state));
  w.Key("tasks_completed");
  w.Uint64(a.tasks_completed);
  w.Key("tasks_failed");
  w.Uint64(a.tasks_failed);
  w.Key("mean_latency_ms");
  w.Double(a.mean_latency_ms);
  put_raw(w, "metadata", a.metadata_json, rapidjson::kObjectType);
  put_time(w, "created_at", a.created_at);
  put_time(w, "updated_at", a.updated_at);
  if (!a.node_id.empty())
    put(w, "node_id", a.node_id);
  w.EndObject();
}

template <class T, class F>
std::string encode_list(const std::vector<T>& items, F write_one) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartArray();
  for (const auto& item : items)
    write_one(w, item);
  w.EndArray();
  return std::string{buf.GetString(), buf.GetSize()};
}

} // namespace

std::string encode_task(const task_record& task) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  write_task(w, task);
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_tasks(const std::vector<task_record>& tasks) {
  return encode_list(tasks, write_task);
}

std::string encode_agent(const agent_record& agent) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  write_agent(w, agent);
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_agents(const std::vector<agent_record>& agents) {
  return encode_list(agents, write_agent);
}

std::string encode_events(const std::vector<task_event>& events) {
  return encode_list(events, [](writer& w, const task_event& e) {
    w.StartObject();
    put(w, "task_id", e.task_id);
    put(w, "status", to_string(e.status));
    put_time(w, "at", e.at);
    w.Key("attempt");
    w.Uint(e.attempt);
    put_or_null(w, "agent_id", e.agent_id);
    put_or_null(w, "detail", e.detail);
    w.EndObject();
  });
}

std::string encode_status(const actors::hive_status& s) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  w.Key("agents");
  w.StartObject();
  w.Key("total");
  w.Uint64(s.agents_total);
  w.Key("by_state");
  w.StartObject();
  for (int i = 0; i < agent_state_count; ++i) {
    auto name = to_string(static_cast<agent_state>(i));
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w.Uint64(s.agents_by_state[i]);
  }
  w.EndObject();
  w.Key("restarts");
  w.Uint64(s.agent_restarts);
  w.EndObject();
  w.Key("tasks");
  w.StartObject();
  w.Key("by_status");
  w.StartObject();
  uint64_t total = 0;
  for (int i = 0; i < task_status_count; ++i) {
    auto name = to_string(static_cast<task_status>(i));
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w.Uint64(s.tasks_by_status[i]);
    total += s.tasks_by_status[i];
  }
  w.EndObject();
  w.Key("total");
  w.Uint64(total);
  w.Key("running");
  w.Uint64(s.running_tasks);
  w.Key("live_actors");
  w.Uint64(s.live_task_actors);
  w.EndObject();
  w.Key("queue");
  w.StartObject();
  w.Key("depth_by_priority");
  w.StartObject();
  uint64_t depth = 0;
  for (int i = 0; i < priority_levels; ++i) {
    auto name = to_string(static_cast<priority>(i));
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w.Uint64(s.queue_depth_by_priority[i]);
    depth += s.queue_depth_by_priority[i];
  }
  w.EndObject();
  w.Key("depth");
  w.Uint64(depth);
  w.EndObject();
  put_time(w, "started_at", s.started_at);
  w.Key("uptime_secs");
  w.Double(static_cast<double>(s.now - s.started_at) / 1000.0);
  put(w, "store", s.store);
  put(w, "routing", s.routing.empty() ? std::string_view{"heuristic"} : std::string_view{s.routing});
  put(w, "accelerator", s.accelerator);
  // Throughput and latency over the last 1, 5 and 15 minutes.
  w.Key("throughput");
  w.StartObject();
  for (const auto& win : s.activity) {
    auto name = window_name(actors::status_windows_secs[&win - s.activity.data()]);
    w.Key(name.c_str());
    w.StartObject();
    w.Key("window_secs");
    w.Uint(win.secs);
    put_number(w, "submitted_per_sec", win.submitted_per_sec);
    put_number(w, "completed_per_sec", win.completed_per_sec);
    put_number(w, "failed_per_sec", win.failed_per_sec);
    w.Key("submitted");
    w.Uint64(win.submitted);
    w.Key("completed");
    w.Uint64(win.completed);
    w.Key("failed");
    w.Uint64(win.failed);
    w.Key("cancelled");
    w.Uint64(win.cancelled);
    w.EndObject();
  }
  w.EndObject();
  w.Key("latency_ms");
  w.StartObject();
  for (size_t i = 0; i < s.activity.size(); ++i) {
    auto name = window_name(actors::status_windows_secs[i]);
    w.Key(name.c_str());
    write_latency(w, s.activity[i].latency);
  }
  w.EndObject();
  w.Key("run_time_ms");
  w.StartObject();
  for (size_t i = 0; i < s.activity.size(); ++i) {
    auto name = window_name(actors::status_windows_secs[i]);
    w.Key(name.c_str());
    write_latency(w, s.activity[i].run_time);
  }
  w.EndObject();
  w.Key("dispatch_us"); // since start; the summaries' fields are microseconds here
  w.StartObject();
  w.Key("local");
  write_latency(w, s.dispatch_local_us);
  w.Key("remote");
  write_latency(w, s.dispatch_remote_us);
  w.EndObject();
  w.Key("resources");
  if (s.resources) {
    w.StartObject();
    put_number(w, "cpu_percent", s.resources->cpu_percent);
    put_number(w, "memory_percent", s.resources->memory_percent);
    put_number(w, "resident_memory_bytes", s.resources->resident_bytes);
    put_number(w, "memory_limit_bytes", s.resources->memory_limit_bytes);
    put_number(w, "open_fds", s.resources->open_fds);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("alerts");
  w.StartArray();
  for (const auto& a : s.alerts)
    write_alert(w, a);
  w.EndArray();
  w.Key("task_types");
  w.StartArray();
  for (const auto& t : s.task_types)
    w.String(t.c_str(), static_cast<rapidjson::SizeType>(t.size()));
  w.EndArray();
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_snapshot(const actors::metrics_snapshot& snap) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  put_time(w, "ts", snap.at);
  for (int i = 0; i < actors::metric_count; ++i) {
    auto name = actors::to_string(static_cast<actors::metric>(i));
    put_number(w, name.data(), snap.values[static_cast<size_t>(i)]);
  }
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_alert(const actors::alert& a) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  write_alert(w, a);
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_learning(const actors::learning_report& r) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  w.Key("rows");
  w.Uint64(r.rows);
  w.Key("epochs");
  w.Uint(r.epochs);
  put_number(w, "train_mse", r.train_mse);
  put_number(w, "validation_mse_before", r.validation_mse_before);
  put_number(w, "validation_mse_after", r.validation_mse_after);
  put_number(w, "validation_accuracy", r.validation_accuracy);
  w.Key("adopted");
  w.Bool(r.adopted);
  put_number(w, "seconds", r.seconds);
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_alerts(const std::vector<actors::alert>& active,
                          const std::vector<actors::alert>& recent) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  w.Key("active");
  w.StartArray();
  for (const auto& a : active)
    write_alert(w, a);
  w.EndArray();
  w.Key("recent");
  w.StartArray();
  for (const auto& a : recent)
    write_alert(w, a);
  w.EndArray();
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

namespace {

void write_object(writer& w, const persistence::stored_object& o, bool with_data) {
  // Meta and body are JSON the store got from Hive itself; an empty one (never expected)
  // still gives valid output.
  auto raw = [&](const char* key, const std::string& text) {
    w.Key(key);
    if (text.empty())
      w.Null();
    else
      w.RawValue(text.data(), text.size(), rapidjson::kObjectType);
  };
  w.StartObject();
  put(w, "name", o.name);
  put_time(w, "updated_at", o.updated_at);
  raw("info", o.meta);
  if (with_data)
    raw("data", o.body);
  w.EndObject();
}

} // namespace

std::string encode_object(const persistence::stored_object& o, bool with_data) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  write_object(w, o, with_data);
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_objects(std::string_view key,
                           const std::vector<persistence::stored_object>& all) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartArray();
  for (const auto& o : all)
    write_object(w, o, false);
  w.EndArray();
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

namespace {

void write_script(writer& w, const actors::scripting::script& s, bool with_source) {
  w.StartObject();
  put(w, "name", s.name);
  w.Key("task_types");
  w.StartArray();
  for (const auto& t : s.task_types)
    w.String(t.c_str(), static_cast<rapidjson::SizeType>(t.size()));
  w.EndArray();
  put_time(w, "updated_at", s.updated_at);
  if (with_source)
    put(w, "source", s.source);
  w.EndObject();
}

} // namespace

std::string encode_script(const actors::scripting::script& s, bool with_source) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  write_script(w, s, with_source);
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_scripts(const std::vector<actors::scripting::script>& all) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  w.Key("scripts");
  w.StartArray();
  for (const auto& s : all)
    write_script(w, s, false);
  w.EndArray();
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_cluster(const std::optional<std::vector<runtime::cluster_member>>& members) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  w.Key("enabled");
  w.Bool(members.has_value());
  w.Key("nodes");
  w.StartArray();
  if (members) {
    for (const auto& m : *members) {
      w.StartObject();
      put(w, "node_id", m.node_id);
      put(w, "address", m.address);
      w.Key("http_port");
      w.Uint(m.http_port);
      put(w, "state", m.state);
      w.Key("agents");
      w.Uint64(m.agents);
      w.Key("running_tasks");
      w.Uint64(m.running_tasks);
      w.Key("websocket_clients");
      w.Uint64(m.websocket_clients);
      put_time(w, "last_heartbeat", m.last_heartbeat);
      w.Key("self");
      w.Bool(m.self);
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string encode_history(const history_view& h) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  w.StartObject();
  w.Key("interval_secs");
  w.Uint(h.interval_secs);
  w.Key("time_range_secs");
  w.Uint64(h.range_secs);
  w.Key("metrics");
  w.StartArray();
  for (auto m : h.metrics) {
    auto name = actors::to_string(m);
    w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  }
  w.EndArray();
  w.Key("points");
  w.StartArray();
  for (const auto& snap : h.points) {
    w.StartObject();
    put_time(w, "ts", snap.at);
    for (auto m : h.metrics)
      put_number(w, actors::to_string(m).data(), snap[m]);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string format_time(timestamp_ms at) {
  return runtime::format_utc(at);
}

} // namespace hive::net
