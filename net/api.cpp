// The HTTP API: routes requests to engine calls and encodes the answers.
#include "net/api.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <memory>
#include <optional>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "actors/executor.hpp"
#include "actors/neural_library.hpp"
#include "net/error_mapping.hpp"
#include "net/http_metrics.hpp"
#include "net/json_codec.hpp"
#include "build_config.hpp"
#include "runtime/clock.hpp"
#include "runtime/metrics.hpp"

namespace hive::net {
namespace {

using actors::engine;

/// Splits "/api/tasks/ID/events" into {"api", "tasks", "ID", "events"}.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto end = path.find('/', pos);
    if (end == std::string_view::npos)
      end = path.size();
    out.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

http_response json(unsigned status, std::string body) {
  http_response res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

/// The routes, as their patterns appear in metrics (never the raw path: ids would make every
/// request its own series).
enum class route : uint8_t {
  health,
  ready,
  metrics,
  tasks,
  tasks_batch,
  task,
  task_events,
  task_cancel,
  task_retry,
  agents,
  agent,
  hive_status,
  metrics_history,
  alerts,
  models,
  model,
  datasets,
  dataset,
  scripts,
  script,
  cluster_nodes,
  unmatched,
};

constexpr std::array<const char*, 22> route_patterns{
  "/health",           "/ready",
  "/metrics",          "/api/tasks",
  "/api/tasks/batch",  "/api/tasks/{id}",
  "/api/tasks/{id}/events", "/api/tasks/{id}/cancel",
  "/api/tasks/{id}/retry",  "/api/agents",
  "/api/agents/{id}",  "/api/hive/status",
  "/metrics/history",  "/api/alerts",
  "/api/models",       "/api/models/{name}",
  "/api/datasets",     "/api/datasets/{name}",
  "/api/scripts",      "/api/scripts/{name}",
  "/api/cluster/nodes",
  "unmatched"};

/// Which route a path takes, whatever the method.
route match(const std::vector<std::string_view>& parts) {
  auto n = parts.size();
  if (n == 1 && parts[0] == "health")
    return route::health;
  if (n == 1 && parts[0] == "ready")
    return route::ready;
  if (n == 1 && parts[0] == "metrics")
    return route::metrics;
  if (n == 2 && parts[0] == "metrics" && parts[1] == "history")
    return route::metrics_history;
  if (n < 2 || parts[0] != "api")
    return route::unmatched;
  if (parts[1] == "tasks") {
    if (n == 2)
      return route::tasks;
    if (n == 3)
      return parts[2] == "batch" ? route::tasks_batch : route::task;
    if (n == 4 && parts[3] == "events")
      return route::task_events;
    if (n == 4 && parts[3] == "cancel")
      return route::task_cancel;
    if (n == 4 && parts[3] == "retry")
      return route::task_retry;
    return route::unmatched;
  }
  if (parts[1] == "agents") {
    if (n == 2)
      return route::agents;
    if (n == 3)
      return route::agent;
    return route::unmatched;
  }
  if (n == 3 && parts[1] == "hive" && parts[2] == "status")
    return route::hive_status;
  if (n == 2 && parts[1] == "alerts")
    return route::alerts;
  if (parts[1] == "models" && n <= 3)
    return n == 2 ? route::models : route::model;
  if (parts[1] == "datasets" && n <= 3)
    return n == 2 ? route::datasets : route::dataset;
  if (n == 3 && parts[1] == "cluster" && parts[2] == "nodes")
    return route::cluster_nodes;
  if (parts[1] == "scripts" && n <= 3)
    return n == 2 ? route::scripts : route::script;
  return route::unmatched;
}

/// Everything one request needs to answer, shared by the callbacks.
struct call {
  http_request req;
  responder send;
  http_metrics* metrics = nullptr; ///< null: metrics are off
  route matched = route::unmatched;
  std::chrono::steady_clock::time_point began;

  /// Answers the request (once), counting and timing it when metrics are on.
  void respond(http_response res) const {
    if (metrics != nullptr) {
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
      metrics->observe(static_cast<size_t>(matched), req.method, res.status, took.count());
    }
    send(std::move(res));
  }

  void fail(const error& err) const { respond(error_response(err, req.request_id)); }

  template <class T, class Encode>
  actors::callback<T> answer(unsigned status, Encode encode) const {
    auto self = *this;
    return [self, status, encode](result<T> res) {
      if (!res)
        self.fail(res.err());
      else
        self.respond(json(status, encode(*res)));
    };
  }
};

bool is_json(const http_request& req) {
  auto ct = std::string_view{req.content_type};
  auto semi = ct.find(';');
  if (semi != std::string_view::npos)
    ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ')
    ct.remove_suffix(1);
  std::string lowered{ct};
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), ::tolower);
  return lowered == "application/json";
}

/// Requests with a body must declare it JSON.
bool check_json_body(const call& c) {
  if (!is_json(c.req)) {
    c.fail(make_error(errc::unsupported_media_type,
                      "Content-Type must be application/json, got '"
                        + (c.req.content_type.empty() ? std::string{"none"} : c.req.content_type)
                        + "'"));
    return false;
  }
  return true;
}

/// Reads `limit` and `after` query parameters.
bool paging(const call& c, size_t& limit, std::string& after) {
  limit = 100;
  if (const auto* v = c.req.query_param("limit")) {
    unsigned x = 0;
    auto res = std::from_chars(v->data(), v->data() + v->size(), x);
    if (res.ec != std::errc{} || res.ptr != v->data() + v->size() || x < 1 || x > 1000) {
      c.fail(make_error(errc::invalid_field, "limit must be a whole number between 1 and 1000",
                        "limit"));
      return false;
    }
    limit = x;
  }
  if (const auto* v = c.req.query_param("after"))
    after = *v;
  return true;
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass as they are).
std::string encode_query_value(std::string_view in) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : in) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(hex[ch >> 4]);
      out.push_back(hex[ch & 0xf]);
    }
  }
  return out;
}

/// Adds X-Next-Cursor / Link headers when the page is full. The link keeps the request's
/// filters and replaces only the cursor.
template <class T>
void add_cursor(http_response& res, const std::vector<T>& items, size_t limit,
                const http_request& req) {
  if (items.size() < limit || items.empty())
    return;
  const auto& last = items.back().id;
  res.headers.emplace_back("X-Next-Cursor", last);
  std::string link = "<" + req.path + "?";
  for (const auto& [key, value] : req.query)
    if (key != "after" && key != "limit")
      link += encode_query_value(key) + "=" + encode_query_value(value) + "&";
  link += "limit=" + std::to_string(limit) + "&after=" + last + ">; rel=\"next\"";
  res.headers.emplace_back("Link", std::move(link));
}

class api {
public:
  api(engine& core, api_options opts) : core_(core), opts_(std::move(opts)) {
    if (opts_.metrics != nullptr)
      metrics_ = std::make_unique<http_metrics>(
        opts_.metrics->registry(),
        std::vector<std::string>{route_patterns.begin(), route_patterns.end()});
  }

  void handle(http_request&& req, responder respond) {
    call c{std::move(req), std::move(respond), nullptr, route::unmatched, {}};
    auto parts = segments(c.req.path);
    auto r = match(parts);
    if (metrics_) {
      c.metrics = metrics_.get();
      c.matched = r;
      c.began = std::chrono::steady_clock::now();
    }
    const auto& m = c.req.method;
    auto allow = [&](std::initializer_list<const char*> methods) {
      for (auto* x : methods)
        if (m == x)
          return true;
      std::string list;
      for (auto* x : methods)
        list += (list.empty() ? "" : ", ") + std::string{x};
      auto res = error_response(
        make_error(errc::method_not_allowed, m + " is not allowed on " + c.req.path + "; use "
                                               + list),
        c.req.request_id);
      res.headers.emplace_back("Allow", list);
      c.respond(std::move(res));
      return false;
    };
    switch (r) {
      case route::health:
        if (allow({"GET", "HEAD"}))
          c.respond(json(200, R"({"status":"ok"})"));
        return;
      case route::ready:
        if (allow({"GET", "HEAD"}))
          ready(c);
        return;
      case route::metrics:
        if (opts_.metrics == nullptr)
          return not_found(c);
        if (allow({"GET"}))
          scrape(c);
        return;
      case route::tasks:
        if (!allow({"GET", "POST"}))
          return;
        return m == "GET" ? list_tasks(c) : submit(c);
      case route::tasks_batch:
        if (allow({"POST"}))
          submit_batch(c);
        return;
      case route::task:
        if (allow({"GET"}))
          core_.get_task(std::string{parts[2]}, c.answer<task_record>(200, encode_task));
        return;
      case route::task_events:
        if (allow({"GET"}))
          core_.task_events(std::string{parts[2]},
                            c.answer<std::vector<task_event>>(200, encode_events));
        return;
      case route::task_cancel:
        if (allow({"POST"}))
          core_.cancel_task(std::string{parts[2]}, c.answer<task_record>(200, encode_task));
        return;
      case route::task_retry:
        if (allow({"POST"}))
          core_.retry_task(std::string{parts[2]}, c.answer<task_record>(202, encode_task));
        return;
      case route::agents:
        if (!allow({"GET", "POST"}))
          return;
        return m == "GET" ? list_agents(c) : create_agent(c);
      case route::agent: {
        if (!allow({"GET", "PATCH", "DELETE"}))
          return;
        std::string id{parts[2]};
        if (m == "GET")
          return core_.get_agent(id, c.answer<agent_record>(200, encode_agent));
        if (m == "DELETE")
          return core_.delete_agent(id, [c](result<unit_t> res) {
            if (!res)
              return c.fail(res.err());
            http_response out;
            out.status = 204;
            c.respond(std::move(out));
          });
        return update_agent(c, id);
      }
      case route::hive_status:
        if (allow({"GET"}))
          core_.status(c.answer<actors::hive_status>(200, encode_status));
        return;
      case route::metrics_history:
        if (allow({"GET"}))
          metrics_history(c);
        return;
      case route::alerts:
        if (allow({"GET"}))
          c.respond(json(200, encode_alerts(core_.active_alerts(), core_.recent_alerts())));
        return;
      case route::models:
        if (allow({"GET"}))
          list_objects(c, actors::model_kind, "models");
        return;
      case route::model:
        if (allow({"GET", "DELETE"}))
          object(c, actors::model_kind, parts[2]);
        return;
      case route::datasets:
        if (allow({"GET"}))
          list_objects(c, actors::dataset_kind, "datasets");
        return;
      case route::dataset:
        if (allow({"GET", "PUT", "DELETE"}))
          m == "PUT" ? put_dataset(c, parts[2]) : object(c, actors::dataset_kind, parts[2]);
        return;
      case route::cluster_nodes:
        if (allow({"GET"})) {
          auto members = opts_.cluster_members ? opts_.cluster_members() : std::nullopt;
          c.respond(json(200, encode_cluster(members)));
        }
        return;
#if HIVE_ENABLE_LUA
      case route::scripts:
        if (opts_.scripts == nullptr)
          return not_found(c);
        if (!allow({"GET", "POST"}))
          return;
        return m == "GET" ? c.respond(json(200, encode_scripts(opts_.scripts->list())))
                          : put_script(c, std::nullopt);
      case route::script: {
        if (opts_.scripts == nullptr)
          return not_found(c);
        if (!allow({"GET", "PUT", "DELETE"}))
          return;
        std::string name{parts[2]};
        if (m == "PUT")
          return put_script(c, name);
        if (m == "GET") {
          auto s = opts_.scripts->get(name);
          if (!s)
            return c.fail(make_error(errc::not_found, "no script named '" + name + "'", "name"));
          return c.respond(json(200, encode_script(*s, true)));
        }
        return delete_script(c, name);
      }
#else
      case route::scripts:
      case route::script:
        return not_found(c); // a build without Lua
#endif
      case route::unmatched:
        break;
    }
    not_found(c);
  }

private:
  void not_found(const call& c) {
    c.fail(make_error(errc::not_found, "no route for " + c.req.method + " " + c.req.path));
  }

  /// Refreshes the gauges that are read at scrape time, then renders the whole registry.
  void scrape(const call& c) {
    auto* registry = opts_.metrics;
    auto render = [c, registry] {
      http_response res;
      res.content_type = std::string{runtime::metrics_registry::content_type};
      res.body = registry->render();
      c.respond(std::move(res));
    };
    if (opts_.refresh_metrics)
      opts_.refresh_metrics(std::move(render));
    else
      render();
  }

  /// GET /metrics/history?time_range=1h&metrics=a,b (defaults: 1h, every metric).
  void metrics_history(const call& c) {
    history_view view;
    view.interval_secs = core_.monitor_config().interval_secs;
    view.range_secs = 3600;
    if (const auto* v = c.req.query_param("time_range")) {
      auto secs = decode_duration(*v, "time_range");
      if (!secs)
        return c.fail(secs.err());
      view.range_secs = *secs;
    }
    if (const auto* v = c.req.query_param("metrics"); v != nullptr && !v->empty()) {
      std::string_view rest{*v};
      while (!rest.empty()) {
        auto comma = rest.find(',');
        auto name = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        actors::metric m{};
        if (!actors::from_string(name, m)) {
          std::string known;
          for (int i = 0; i < actors::metric_count; ++i)
            known += (i ? ", " : "") + std::string{actors::to_string(static_cast<actors::metric>(i))};
          return c.fail(make_error(errc::invalid_field,
                                   "metrics names unknown metric '" + std::string{name}
                                     + "'; known: " + known,
                                   "metrics"));
        }
        if (std::find(view.metrics.begin(), view.metrics.end(), m) == view.metrics.end())
          view.metrics.push_back(m);
      }
    } else {
      for (int i = 0; i < actors::metric_count; ++i)
        view.metrics.push_back(static_cast<actors::metric>(i));
    }
    auto now = runtime::system_clock::instance().now();
    auto since = now - static_cast<timestamp_ms>(std::min<uint64_t>(view.range_secs, 1ull << 40) * 1000);
    view.points = core_.metrics_history(since);
    c.respond(json(200, encode_history(view)));
  }

  void ready(const call& c) {
    core_.ready([c](result<unit_t> res) {
      if (!res)
        return c.fail(make_error(errc::store_unavailable,
                                 "the store is not usable: " + res.err().message));
      c.respond(json(200, R"({"status":"ready"})"));
    });
  }

  void submit(const call& c) {
    if (!check_json_body(c))
      return;
    auto spec = decode_task(c.req.body, c.req.idempotency_key, opts_.limits);
    if (!spec)
      return c.fail(spec.err());
    core_.submit(std::move(*spec), [c](result<actors::submit_outcome> res) {
      if (!res)
        return c.fail(res.err());
      auto out = json(res->replayed ? 200 : 201, encode_task(res->task));
      out.headers.emplace_back("Location", "/api/tasks/" + res->task.id);
      if (res->replayed)
        out.headers.emplace_back("Idempotent-Replayed", "true");
      c.respond(std::move(out));
    });
  }

  void submit_batch(const call& c) {
    if (!check_json_body(c))
      return;
    auto specs = decode_task_batch(c.req.body, opts_.max_batch, opts_.limits);
    if (!specs)
      return c.fail(specs.err());
    core_.submit_batch(std::move(*specs), [c](result<std::vector<actors::submit_outcome>> res) {
      if (!res)
        return c.fail(res.err());
      std::vector<task_record> tasks;
      tasks.reserve(res->size());
      for (auto& o : *res)
        tasks.push_back(std::move(o.task));
      c.respond(json(201, encode_tasks(tasks)));
    });
  }

  void list_tasks(const call& c) {
    persistence::task_filter f;
    if (!paging(c, f.limit, f.after_id))
      return;
    if (const auto* v = c.req.query_param("status")) {
      task_status st = task_status::pending;
      if (!from_string(*v, st))
        return c.fail(make_error(errc::invalid_field,
                                 "status must be one of pending, queued, running, completed, "
                                 "failed, cancelled, dead",
                                 "status"));
      f.status = st;
    }
    if (const auto* v = c.req.query_param("type"))
      f.type = *v;
    if (const auto* v = c.req.query_param("agent_id"))
      f.agent_id = *v;
    if (const auto* v = c.req.query_param("capability"))
      f.capability = *v;
    auto limit = f.limit;
    core_.list_tasks(std::move(f), [c, limit](result<std::vector<task_record>> res) {
      if (!res)
        return c.fail(res.err());
      auto out = json(200, encode_tasks(*res));
      add_cursor(out, *res, limit, c.req);
      c.respond(std::move(out));
    });
  }

  void create_agent(const call& c) {
    if (!check_json_body(c))
      return;
    auto spec = decode_agent(c.req.body, opts_.limits);
    if (!spec)
      return c.fail(spec.err());
    core_.create_agent(std::move(*spec), [c](result<agent_record> res) {
      if (!res)
        return c.fail(res.err());
      auto out = json(201, encode_agent(*res));
      out.headers.emplace_back("Location", "/api/agents/" + res->id);
      c.respond(std::move(out));
    });
  }

  void list_agents(const call& c) {
    actors::agent_query q;
    if (!paging(c, q.limit, q.after_id))
      return;
    if (const auto* v = c.req.query_param("state")) {
      agent_state st = agent_state::idle;
      if (!from_string(*v, st))
        return c.fail(make_error(errc::invalid_field,
                                 "state must be one of idle, working, paused, failed, offline",
                                 "state"));
      q.state = st;
    }
    if (const auto* v = c.req.query_param("type")) {
      agent_type t = agent_type::worker;
      if (!from_string(*v, t))
        return c.fail(make_error(errc::invalid_field,
                                 "type must be one of worker, specialist, coordinator, learner, script",
                                 "type"));
      q.type = t;
    }
    if (const auto* v = c.req.query_param("capability"))
      q.capability = *v;
    auto limit = q.limit;
    core_.list_agents(std::move(q), [c, limit](result<std::vector<agent_record>> res) {
      if (!res)
        return c.fail(res.err());
      auto out = json(200, encode_agents(*res));
      add_cursor(out, *res, limit, c.req);
      c.respond(std::move(out));
    });
  }

  void list_objects(const call& c, std::string_view kind, std::string_view key) {
    core_.list_objects(std::string{kind},
                       [c, key](result<std::vector<persistence::stored_object>> res) {
                         if (!res)
                           return c.fail(res.err());
                         c.respond(json(200, encode_objects(key, *res)));
                       });
  }

  /// GET or DELETE of one model or dataset. Hive's own (reserved names) can be read only.
  void object(const call& c, std::string_view kind, std::string_view name) {
    if (c.req.method == "GET")
      return core_.get_object(std::string{kind}, std::string{name},
                              [c, kind](result<persistence::stored_object> res) {
                                if (!res)
                                  return c.fail(res.err());
                                c.respond(json(200, encode_object(*res, kind == actors::dataset_kind)));
                              });
    if (auto ok = actors::check_object_name(name, "name"); !ok)
      return c.fail(ok.err().code == errc::invalid_field
                      && name.substr(0, actors::reserved_prefix.size()) == actors::reserved_prefix
                      ? make_error(errc::illegal_state,
                                   "'" + std::string{name} + "' belongs to Hive and cannot be "
                                   "deleted", "name")
                      : ok.err());
    core_.delete_object(std::string{kind}, std::string{name}, [c](result<unit_t> res) {
      if (!res)
        return c.fail(res.err());
      http_response out;
      out.status = 204;
      c.respond(std::move(out));
    });
  }

  /// PUT /api/datasets/{name} with `{"inputs": [[...]], "outputs": [[...]]}`.
  void put_dataset(const call& c, std::string_view name) {
    if (!check_json_body(c))
      return;
    if (auto ok = actors::check_object_name(name, "name"); !ok)
      return c.fail(ok.err());
    auto data = actors::decode_dataset(c.req.body, "body");
    if (!data)
      return c.fail(data.err());
    persistence::stored_object o{std::string{actors::dataset_kind}, std::string{name},
                                 actors::encode_dataset(*data), actors::dataset_meta(*data),
                                 runtime::system_clock::instance().now()};
    auto summary = o;
    summary.body.clear();
    core_.put_object(std::move(o), [c, summary](result<bool> created) {
      if (!created)
        return c.fail(created.err());
      auto out = json(*created ? 201 : 200, encode_object(summary, false));
      out.headers.emplace_back("Location", "/api/datasets/" + summary.name);
      c.respond(std::move(out));
    });
  }

#if HIVE_ENABLE_LUA
  /// POST /api/scripts or PUT /api/scripts/{name} with `{"name", "source"}` (PUT: the name
  /// comes from the path; a body name must match it). Checking runs the script's top level,
  /// so it happens on the engine's pool, as does storing it.
  void put_script(const call& c, std::optional<std::string> path_name) {
    if (!check_json_body(c))
      return;
    std::pair<std::string, std::string> spec;
    if (path_name) {
      rapidjson::Document doc;
      doc.Parse(c.req.body.data(), c.req.body.size());
      if (!doc.HasParseError() && doc.IsObject() && !doc.HasMember("name"))
        doc.AddMember("name", rapidjson::Value{path_name->c_str(), doc.GetAllocator()},
                      doc.GetAllocator());
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w{buf};
      doc.Accept(w);
      auto decoded = decode_script(doc.HasParseError() ? std::string_view{c.req.body}
                                                       : std::string_view{buf.GetString(), buf.GetSize()},
                                   opts_.max_script_bytes);
      if (!decoded)
        return c.fail(decoded.err());
      if (decoded->first != *path_name)
        return c.fail(make_error(errc::invalid_field, "name must match the path ('" + *path_name
                                                        + "')", "name"));
      spec = std::move(*decoded);
    } else {
      auto decoded = decode_script(c.req.body, opts_.max_script_bytes);
      if (!decoded)
        return c.fail(decoded.err());
      spec = std::move(*decoded);
    }
    auto* scripts = opts_.scripts;
    bool posted = core_.run_blocking([c, scripts, spec] {
      auto put = scripts->put(spec.first, spec.second);
      if (!put)
        return c.fail(put.err());
      auto out = json(put->second ? 201 : 200, encode_script(put->first, false));
      out.headers.emplace_back("Location", "/api/scripts/" + put->first.name);
      c.respond(std::move(out));
    });
    if (!posted)
      c.fail(make_error(errc::shutting_down, "the server is shutting down"));
  }

  void delete_script(const call& c, const std::string& name) {
    auto* scripts = opts_.scripts;
    bool posted = core_.run_blocking([c, scripts, name] {
      auto gone = scripts->remove(name);
      if (!gone)
        return c.fail(gone.err());
      if (!*gone)
        return c.fail(make_error(errc::not_found, "no script named '" + name + "'", "name"));
      http_response out;
      out.status = 204;
      c.respond(std::move(out));
    });
    if (!posted)
      c.fail(make_error(errc::shutting_down, "the server is shutting down"));
  }

#endif

  void update_agent(const call& c, const std::string& id) {
    if (!check_json_body(c))
      return;
    auto patch = decode_agent_patch(c.req.body, opts_.limits);
    if (!patch)
      return c.fail(patch.err());
    core_.update_agent(id, std::move(*patch), c.answer<agent_record>(200, encode_agent));
  }

  engine& core_;
  api_options opts_;
  std::unique_ptr<http_metrics> metrics_; ///< null when metrics are off
};

} // namespace

http_handler make_api_handler(actors::engine& core, api_options opts) {
  auto impl = std::make_shared<api>(core, std::move(opts));
  return [impl](http_request&& req, responder respond) {
    impl->handle(std::move(req), std::move(respond));
  };
}

} // namespace hive::net
