// The settings table (the one place defaults live), the value parsers and the layered loader.
#include "runtime/config.hpp"

#include "build_config.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <tuple>

extern char** environ;

namespace hive::runtime {
namespace {

using applier = std::function<std::string(config&, std::string_view)>; // "" = ok, else why not

struct setting_row {
  setting_info info;
  applier apply;
};

/// Parses an unsigned integer in [lo, hi]; returns an explanation on failure.
template <class T>
std::string parse_uint(std::string_view text, uint64_t lo, uint64_t hi, T& out) {
  uint64_t value = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  if (res.ec != std::errc{} || res.ptr != text.data() + text.size() || text.empty())
    return "expected a whole number, got '" + std::string{text} + "'";
  if (value < lo || value > hi)
    return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got "
           + std::string{text};
  out = static_cast<T>(value);
  return {};
}

applier uint_setting(uint64_t lo, uint64_t hi, std::function<void(config&, uint64_t)> set) {
  return [lo, hi, set](config& cfg, std::string_view text) {
    uint64_t value = 0;
    auto why = parse_uint(text, lo, hi, value);
    if (why.empty())
      set(cfg, value);
    return why;
  };
}

/// A thread count: a number, or `auto` for the number of cores (scaled by `auto_fraction`).
applier threads_setting(double auto_fraction, std::function<void(config&, uint32_t)> set) {
  return [auto_fraction, set](config& cfg, std::string_view text) -> std::string {
    if (text == "auto") {
      auto cores = std::max(1u, std::thread::hardware_concurrency());
      set(cfg, std::max(1u, static_cast<uint32_t>(cores * auto_fraction)));
      return {};
    }
    uint32_t value = 0;
    auto why = parse_uint(text, 1, 512, value);
    if (!why.empty())
      return why + " (or 'auto')";
    set(cfg, value);
    return {};
  };
}

applier choice_setting(std::vector<std::string_view> choices,
                       std::function<void(config&, std::string)> set) {
  return [choices, set](config& cfg, std::string_view text) -> std::string {
    if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
      std::string why = "must be one of";
      for (auto c : choices)
        why += std::string{" "} + std::string{c};
      return why + ", got '" + std::string{text} + "'";
    }
    set(cfg, std::string{text});
    return {};
  };
}

/// true/false (also 1/0, yes/no, on/off, any case).
applier bool_setting(std::function<void(config&, bool)> set) {
  return [set](config& cfg, std::string_view text) -> std::string {
    std::string v{text};
    for (auto& c : v)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "true" || v == "1" || v == "yes" || v == "on") {
      set(cfg, true);
      return {};
    }
    if (v == "false" || v == "0" || v == "no" || v == "off") {
      set(cfg, false);
      return {};
    }
    return "expected true or false, got '" + std::string{text} + "'";
  };
}

applier text_setting(std::function<std::string(config&, std::string_view)> set) {
  return set;
}

std::string check_database_url(std::string_view url) {
  if (url.rfind("sqlite://", 0) == 0) {
    if (url.size() == 9)
      return "a sqlite:// URL needs a file path, e.g. sqlite://data/hive.db";
    return {};
  }
  if (url == "memory://")
    return {};
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
#if HIVE_ENABLE_POSTGRES
    return {};
#else
    return "PostgreSQL is not available in this build (configured with "
           "-DHIVE_ENABLE_POSTGRES=OFF); use sqlite://PATH";
#endif
  }
  // Only the scheme is quoted: the rest of a URL may hold a password.
  auto end = url.find("://");
  return end == std::string_view::npos
           ? std::string{"must be sqlite://PATH, postgresql://USER@HOST:PORT/DB or memory://"}
           : "must be sqlite://PATH, postgresql://USER@HOST:PORT/DB or memory://, got a '"
               + std::string{url.substr(0, end)} + "://' URL";
}

const std::vector<setting_row>& table() {
  static const std::vector<setting_row> rows = {
    {{"server", "host", "0.0.0.0", "address the HTTP server listens on"},
     text_setting([](config& c, std::string_view v) -> std::string {
       if (v.empty())
         return "must not be empty";
       c.server.host = std::string{v};
       return {};
     })},
    {{"server", "port", "3001", "HTTP port (0 picks a free one)"},
     uint_setting(0, 65535, [](config& c, uint64_t v) { c.server.port = uint16_t(v); })},
    {{"server", "max_connections", "1000", "open HTTP connections at most; more get 503"},
     uint_setting(1, 1'000'000, [](config& c, uint64_t v) { c.server.max_connections = v; })},
    {{"server", "keep_alive_timeout_secs", "75", "idle keep-alive connections close after this"},
     uint_setting(1, 86400, [](config& c, uint64_t v) { c.server.keep_alive_timeout_secs = v; })},
    {{"server", "request_timeout_secs", "30", "a request must arrive and be answered within this"},
     uint_setting(1, 3600, [](config& c, uint64_t v) { c.server.request_timeout_secs = v; })},
    {{"server", "max_body_bytes", "1048576", "largest request body accepted (413 above)"},
     uint_setting(1024, 1ull << 30, [](config& c, uint64_t v) { c.server.max_body_bytes = v; })},
    {{"server", "io_threads", "auto", "threads running the HTTP server (auto: half the cores)"},
     threads_setting(0.5, [](config& c, uint32_t v) { c.server.io_threads = v; })},
    {{"server", "shutdown_grace_secs", "10", "on SIGTERM, wait this long for running tasks"},
     uint_setting(0, 3600, [](config& c, uint64_t v) { c.server.shutdown_grace_secs = v; })},
    {{"performance", "worker_threads", "auto", "actor scheduler threads (auto: one per core)"},
     threads_setting(1.0, [](config& c, uint32_t v) { c.performance.worker_threads = v; })},
    {{"performance", "scheduler_policy", "stealing", "CAF scheduler: stealing or sharing"},
     choice_setting({"stealing", "sharing"},
                    [](config& c, std::string v) { c.performance.scheduler_policy = v; })},
    {{"performance", "async_tasks_max", "10000",
      "live task actors at most; further tasks wait durably in the queue"},
     uint_setting(1, 10'000'000, [](config& c, uint64_t v) { c.performance.async_tasks_max = v; })},
    {{"performance", "max_agents", "100000", "registered agents at most"},
     uint_setting(1, 10'000'000, [](config& c, uint64_t v) { c.performance.max_agents = v; })},
    {{"performance", "cache_size_mb", "4", "page cache of the store's writer, in MiB"},
     uint_setting(1, 65536, [](config& c, uint64_t v) { c.performance.cache_size_mb = v; })},
    {{"performance", "cpu_warning_threshold", "70",
      "alert when this process uses this percent of its CPUs"},
     uint_setting(1, 100, [](config& c, uint64_t v) { c.performance.cpu_warning_threshold = v; })},
    {{"performance", "cpu_critical_threshold", "90", "critical CPU alert, in percent"},
     uint_setting(1, 100, [](config& c, uint64_t v) { c.performance.cpu_critical_threshold = v; })},
    {{"performance", "memory_warning_threshold", "80",
      "alert when resident memory reaches this percent of the memory limit"},
     uint_setting(1, 100,
                  [](config& c, uint64_t v) { c.performance.memory_warning_threshold = v; })},
    {{"performance", "memory_critical_threshold", "95", "critical memory alert, in percent"},
     uint_setting(1, 100,
                  [](config& c, uint64_t v) { c.performance.memory_critical_threshold = v; })},
    {{"performance", "queue_warning_threshold", "80",
      "alert when unfinished tasks reach this percent of tasks.queue_max"},
     uint_setting(1, 100,
                  [](config& c, uint64_t v) { c.performance.queue_warning_threshold = v; })},
    {{"performance", "queue_critical_threshold", "95", "critical queue alert, in percent"},
     uint_setting(1, 100,
                  [](config& c, uint64_t v) { c.performance.queue_critical_threshold = v; })},
    {{"performance", "failure_rate_warning_threshold", "10",
      "alert when this percent of the tasks finished in 5 minutes failed (20 tasks at least)"},
     uint_setting(1, 100, [](config& c, uint64_t v) {
       c.performance.failure_rate_warning_threshold = v;
     })},
    {{"performance", "failure_rate_critical_threshold", "25",
      "critical failure-rate alert, in percent"},
     uint_setting(1, 100, [](config& c, uint64_t v) {
       c.performance.failure_rate_critical_threshold = v;
     })},
    {{"performance", "alert_hysteresis", "5",
      "an alert resolves once its value is this many points below the threshold"},
     uint_setting(0, 50, [](config& c, uint64_t v) { c.performance.alert_hysteresis = v; })},
    {{"tasks", "queue_max", "100000", "unfinished tasks at most; beyond it 503 + Retry-After"},
     uint_setting(1, 100'000'000, [](config& c, uint64_t v) { c.tasks.queue_max = v; })},
    {{"tasks", "default_timeout_ms", "30000", "run time limit of a task that sets none"},
     uint_setting(1, 86'400'000, [](config& c, uint64_t v) { c.tasks.default_timeout_ms = v; })},
    {{"tasks", "max_timeout_ms", "3600000", "largest timeout_ms a task may ask for"},
     uint_setting(1, 86'400'000, [](config& c, uint64_t v) { c.tasks.max_timeout_ms = v; })},
    {{"tasks", "retry_base_ms", "200", "first retry delay; doubles each attempt"},
     uint_setting(1, 3'600'000, [](config& c, uint64_t v) { c.tasks.retry_base_ms = v; })},
    {{"tasks", "retry_max_ms", "30000", "longest retry delay"},
     uint_setting(1, 86'400'000, [](config& c, uint64_t v) { c.tasks.retry_max_ms = v; })},
    {{"tasks", "aging_ms", "5000", "queued this long, a task counts one priority level higher"},
     uint_setting(1, 86'400'000, [](config& c, uint64_t v) { c.tasks.aging_ms = v; })},
    {{"tasks", "max_batch", "1000", "tasks accepted in one POST /api/tasks/batch"},
     uint_setting(1, 100'000, [](config& c, uint64_t v) { c.tasks.max_batch = v; })},
    {{"database", "url", "sqlite://data/hive.db",
      "store: sqlite://PATH, postgresql://USER[:PASSWORD]@HOST[:PORT]/DB or memory://"},
     text_setting([](config& c, std::string_view v) {
       auto why = check_database_url(v);
       if (why.empty())
         c.database.url = std::string{v};
       return why;
     })},
    {{"database", "synchronous", "normal",
      "SQLite durability: normal (survives a process crash) or full (also power loss)"},
     choice_setting({"normal", "full"},
                    [](config& c, std::string v) { c.database.synchronous = v; })},
    {{"database", "commit_batch_max", "4096", "state changes written in one transaction at most"},
     uint_setting(1, 1'000'000, [](config& c, uint64_t v) { c.database.commit_batch_max = v; })},
    {{"database", "write_lanes", "0",
      "group-commit writers with a transaction in flight each (0: 1 on SQLite, on PostgreSQL "
      "max_connections / 8, 1 to 4)"},
     uint_setting(0, 64, [](config& c, uint64_t v) { c.database.write_lanes = v; })},
    {{"database", "max_connections", "20", "PostgreSQL connections in the pool at most"},
     uint_setting(2, 1000, [](config& c, uint64_t v) { c.database.max_connections = v; })},
    {{"database", "min_connections", "5", "PostgreSQL connections kept open while idle"},
     uint_setting(0, 1000, [](config& c, uint64_t v) { c.database.min_connections = v; })},
    {{"database", "connection_timeout_secs", "30",
      "waiting this long for a PostgreSQL connection fails the request (503)"},
     uint_setting(1, 3600,
                  [](config& c, uint64_t v) { c.database.connection_timeout_secs = v; })},
    {{"database", "statement_timeout_secs", "60", "PostgreSQL statement_timeout of every session"},
     uint_setting(1, 86400,
                  [](config& c, uint64_t v) { c.database.statement_timeout_secs = v; })},
    {{"database", "pool_recycle_secs", "3600",
      "PostgreSQL connections older than this are closed and replaced"},
     uint_setting(1, 604800, [](config& c, uint64_t v) { c.database.pool_recycle_secs = v; })},
    {{"websocket", "max_connections", "500", "open WebSocket connections at most; more get 503"},
     uint_setting(1, 1'000'000, [](config& c, uint64_t v) { c.websocket.max_connections = v; })},
    {{"websocket", "max_message_bytes", "65536", "largest frame a WebSocket client may send"},
     uint_setting(128, 16u << 20, [](config& c, uint64_t v) { c.websocket.max_message_bytes = v; })},
    {{"websocket", "send_queue_max", "1024",
      "messages queued for one client; beyond it events are dropped (and counted)"},
     uint_setting(1, 1'000'000, [](config& c, uint64_t v) { c.websocket.send_queue_max = v; })},
    {{"websocket", "drop_after_missed", "10000",
      "events a lagging client may miss before it is disconnected"},
     uint_setting(1, 100'000'000,
                  [](config& c, uint64_t v) { c.websocket.drop_after_missed = v; })},
    {{"websocket", "idle_timeout_secs", "30",
      "a silent client is pinged at half this; no answer by then: closed"},
     uint_setting(2, 3600, [](config& c, uint64_t v) { c.websocket.idle_timeout_secs = v; })},
    {{"neural", "mode", "auto",
      "routing: basic (heuristic), fann (a network that learns from outcomes, on the CPU), "
      "cuda (the same, scored on the GPU), auto (cuda if a GPU is usable, else fann)"},
     text_setting([](config& c, std::string_view v) -> std::string {
       if (v == "basic" || v == "fann" || v == "auto" || (v == "cuda" && HIVE_ENABLE_CUDA)) {
         c.neural.mode = std::string{v};
         return {};
       }
       if (v == "cuda")
         return "this build has no CUDA path (built without nvcc); use fann or auto";
       return "must be one of basic fann cuda auto, got '" + std::string{v} + "'";
     })},
    {{"neural", "learning_interval_secs", "10",
      "a training run also starts this long after the last one when fewer than retrain_every "
      "outcomes came in (checked at each outcome)"},
     uint_setting(1, 86'400, [](config& c, uint64_t v) { c.neural.learning_interval_secs = v; })},
    {{"neural", "min_training_gap_ms", "2000",
      "training runs start at least this far apart, however fast outcomes come"},
     uint_setting(0, 3'600'000, [](config& c, uint64_t v) { c.neural.min_training_gap_ms = v; })},
    {{"neural", "candidates", "32", "eligible agents scored per routing decision at most"},
     uint_setting(1, 1'000'000, [](config& c, uint64_t v) { c.neural.candidates = v; })},
    {{"neural", "gpu_batch_min", "256",
      "on the GPU path, candidate lists at least this long are scored in one GPU batch"},
     uint_setting(1, 1'000'000, [](config& c, uint64_t v) { c.neural.gpu_batch_min = v; })},
    {{"neural", "retrain_every", "256", "routing outcomes between training runs of the network"},
     uint_setting(16, 1'000'000, [](config& c, uint64_t v) { c.neural.retrain_every = v; })},
    {{"neural", "epochs", "40", "training epochs per run of the routing network"},
     uint_setting(1, 10'000, [](config& c, uint64_t v) { c.neural.epochs = v; })},
    {{"scripting", "max_memory_mb", "64",
      "memory one Lua state may allocate; a script beyond it fails its task"},
     uint_setting(1, 65'536, [](config& c, uint64_t v) { c.scripting.max_memory_mb = v; })},
    {{"scripting", "max_instructions", "100000000",
      "Lua instructions one task's handler may run (across its pauses); beyond it the task fails"},
     uint_setting(1'000, 1'000'000'000'000,
                  [](config& c, uint64_t v) { c.scripting.max_instructions = v; })},
    {{"scripting", "dir", "",
      "a directory of *.lua scripts (each named after its file) loaded at start and watched "
      "for changes; empty: none"},
     text_setting([](config& c, std::string_view v) -> std::string {
       c.scripting.dir = std::string{v};
       return {};
     })},
    {{"scripting", "watch_interval_ms", "1000", "how often scripting.dir is checked for changes"},
     uint_setting(50, 3'600'000,
                  [](config& c, uint64_t v) { c.scripting.watch_interval_ms = v; })},
    {{"cluster", "enabled", "false",
      "join other nodes into one hive (needs a shared PostgreSQL database.url)"},
     bool_setting([](config& c, bool v) { c.cluster.enabled = v; })},
    {{"cluster", "node_id", "", "this node's name in the cluster, unique per node"},
     text_setting([](config& c, std::string_view v) -> std::string {
       for (unsigned char ch : v)
         if (!std::isalnum(ch) && ch != '-' && ch != '_' && ch != '.')
           return "may hold only letters, digits, '-', '_' and '.'";
       if (v.size() > 64)
         return "must be at most 64 characters";
       c.cluster.node_id = std::string{v};
       return {};
     })},
    {{"cluster", "host", "127.0.0.1", "the address other nodes reach this node at"},
     text_setting([](config& c, std::string_view v) -> std::string {
       if (v.empty())
         return "must not be empty";
       c.cluster.host = std::string{v};
       return {};
     })},
    {{"cluster", "port", "4100", "the cluster port (CAF remoting) this node listens on"},
     uint_setting(1, 65'535,
                  [](config& c, uint64_t v) { c.cluster.port = static_cast<uint16_t>(v); })},
    {{"cluster", "seeds", "", "comma-separated host:port of nodes to join through"},
     text_setting([](config& c, std::string_view v) -> std::string {
       std::vector<std::string> seeds;
       std::string_view rest = v;
       while (!rest.empty()) {
         auto comma = rest.find(',');
         auto item = rest.substr(0, comma);
         rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
         while (!item.empty() && item.front() == ' ')
           item.remove_prefix(1);
         while (!item.empty() && item.back() == ' ')
           item.remove_suffix(1);
         if (item.empty())
           continue;
         auto colon = item.rfind(':');
         unsigned port = 0;
         if (colon == std::string_view::npos || colon == 0
             || std::from_chars(item.data() + colon + 1, item.data() + item.size(), port).ec
                  != std::errc{}
             || port == 0 || port > 65535)
           return "'" + std::string{item} + "' is not host:port";
         seeds.emplace_back(item);
       }
       c.cluster.seeds = std::move(seeds);
       return {};
     })},
    {{"cluster", "secret", "", "shared by every node of the cluster; required in cluster mode"},
     text_setting([](config& c, std::string_view v) -> std::string {
       c.cluster.secret = std::string{v};
       return {};
     })},
    {{"cluster", "heartbeat_interval_ms", "1000", "how often a node tells the others it is alive"},
     uint_setting(50, 60'000,
                  [](config& c, uint64_t v) { c.cluster.heartbeat_interval_ms = v; })},
    {{"cluster", "failure_timeout_ms", "5000",
      "a node not heard from for this long is offline (a lost connection says so at once); "
      "its lease lasts twice this, then survivors take its tasks over"},
     uint_setting(100, 600'000,
                  [](config& c, uint64_t v) { c.cluster.failure_timeout_ms = v; })},
    {{"cluster", "tls_certificate", "",
      "PEM certificate of this node: links between nodes use TLS (with tls_key and tls_ca_file)"},
     text_setting([](config& c, std::string_view v) -> std::string {
       c.cluster.tls_certificate = std::string{v};
       return {};
     })},
    {{"cluster", "tls_key", "", "PEM private key of tls_certificate (not encrypted)"},
     text_setting([](config& c, std::string_view v) -> std::string {
       c.cluster.tls_key = std::string{v};
       return {};
     })},
    {{"cluster", "tls_ca_file", "",
      "PEM CA that signed every node's certificate; peers without one are refused"},
     text_setting([](config& c, std::string_view v) -> std::string {
       c.cluster.tls_ca_file = std::string{v};
       return {};
     })},
    {{"log", "level", "info", "debug, info, warn or error"},
     choice_setting({"debug", "info", "warn", "error"},
                    [](config& c, std::string v) { c.log.level = v; })},
    {{"log", "format", "text", "text or json (one object per line)"},
     choice_setting({"text", "json"}, [](config& c, std::string v) { c.log.format = v; })},
    {{"log", "access", "errors",
      "HTTP access lines (method, target, status, duration, request_id): off, errors (status "
      ">= 400) or all"},
     choice_setting({"off", "errors", "all"},
                    [](config& c, std::string v) { c.log.access = v; })},
    {{"metrics", "enabled", "true",
      "serve GET /metrics and count requests, tasks and commits (false: 404, no counting)"},
     bool_setting([](config& c, bool v) { c.metrics.enabled = v; })},
    {{"metrics", "history_interval_secs", "10",
      "seconds between metrics snapshots (history, alerts, metrics_snapshot events)"},
     uint_setting(1, 3600, [](config& c, uint64_t v) { c.metrics.history_interval_secs = v; })},
    {{"metrics", "history_retention", "8640",
      "snapshots kept for GET /metrics/history (8640 at 10 s: 24 hours)"},
     uint_setting(1, 1'000'000, [](config& c, uint64_t v) { c.metrics.history_retention = v; })},
  };
  return rows;
}

std::string upper(std::string_view in) {
  std::string out{in};
  for (auto& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view in) {
  std::string out{in};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

result<unit_t> apply_from(config& cfg, std::string_view section, std::string_view key,
                          std::string_view value, std::string_view origin) {
  auto res = set_value(cfg, section, key, value);
  if (!res) {
    auto err = std::move(res).err();
    err.message += " (from " + std::string{origin} + ")";
    return err;
  }
  return unit;
}

/// Reads an INI-style file: `[section]` headers, `key = value` lines, `#` or `;` comments.
result<unit_t> apply_file(config& cfg, const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return make_error(errc::invalid_field, "cannot read config file '" + path + "'", "config");
  std::string line;
  std::string section;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    auto text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';')
      continue;
    auto origin = path + ":" + std::to_string(line_no);
    if (text.front() == '[') {
      if (text.back() != ']')
        return make_error(errc::invalid_field, "malformed section header at " + origin, "config");
      section = lower(trim(text.substr(1, text.size() - 2)));
      continue;
    }
    auto eq = text.find('=');
    if (eq == std::string_view::npos)
      return make_error(errc::invalid_field, "expected key = value at " + origin, "config");
    auto key = lower(trim(text.substr(0, eq)));
    auto value = trim(text.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (auto res = apply_from(cfg, section, key, value, origin); !res)
      return res;
  }
  return unit;
}

} // namespace

std::string setting_info::env_name() const {
  return "HIVE_" + upper(section) + "__" + upper(key);
}

const std::vector<setting_info>& settings() {
  static const std::vector<setting_info> infos = [] {
    std::vector<setting_info> out;
    for (const auto& row : table())
      out.push_back(row.info);
    return out;
  }();
  return infos;
}

result<unit_t> set_value(config& cfg, std::string_view section, std::string_view key,
                         std::string_view value) {
  for (const auto& row : table()) {
    if (row.info.section == section && row.info.key == key) {
      auto why = row.apply(cfg, value);
      if (!why.empty())
        return make_error(errc::invalid_field,
                          "invalid setting " + row.info.env_name() + " (" + std::string{section}
                            + "." + std::string{key} + "): " + why,
                          std::string{section} + "." + std::string{key});
      return unit;
    }
  }
  return make_error(errc::invalid_field,
                    "unknown setting " + std::string{section} + "." + std::string{key},
                    std::string{section} + "." + std::string{key});
}

config default_config() {
  config cfg;
  for (const auto& row : table()) {
    [[maybe_unused]] auto why = row.apply(cfg, row.info.default_value);
    assert(why.empty());
  }
  return cfg;
}

result<config> load_config(const config_sources& sources) {
  auto cfg = default_config();
  // The file: given explicitly, or named by HIVE_CONFIG.
  auto file = sources.file_path;
  for (const auto& kv : sources.environment)
    if (file.empty() && kv.rfind("HIVE_CONFIG=", 0) == 0)
      file = kv.substr(12);
  if (!file.empty()) {
    if (auto res = apply_file(cfg, file); !res)
      return std::move(res).err();
    cfg.config_file = file;
  }
  // The environment: HIVE_<SECTION>__<KEY>.
  for (const auto& kv : sources.environment) {
    if (kv.rfind("HIVE_", 0) != 0)
      continue;
    auto eq = kv.find('=');
    if (eq == std::string::npos)
      continue;
    auto name = kv.substr(0, eq);
    auto value = std::string_view{kv}.substr(eq + 1);
    // HIVE_CONFIG names the file; HIVE_TEST_* belong to the test suite (scripts/test).
    if (name == "HIVE_CONFIG" || name.rfind("HIVE_TEST_", 0) == 0)
      continue;
    auto sep = name.find("__", 5);
    bool known = false;
    if (sep != std::string::npos) {
      auto section = lower(name.substr(5, sep - 5));
      auto key = lower(name.substr(sep + 2));
      for (const auto& row : table())
        known = known || (row.info.section == section && row.info.key == key);
      if (known)
        if (auto res = apply_from(cfg, section, key, value, "environment " + name); !res)
          return std::move(res).err();
    }
    if (!known)
      cfg.warnings.push_back("unknown environment variable " + name
                             + " ignored (see `hive serve --help` for the settings)");
  }
  // Flags: section.key=value.
  for (const auto& flag : sources.flags) {
    auto eq = flag.find('=');
    auto dot = flag.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq)
      return make_error(errc::invalid_field,
                        "flag '" + flag + "' must look like --section.key=value", flag);
    auto section = lower(flag.substr(0, dot));
    auto key = lower(flag.substr(dot + 1, eq - dot - 1));
    if (auto res = apply_from(cfg, section, key, std::string_view{flag}.substr(eq + 1),
                              "flag --" + flag.substr(0, eq));
        !res)
      return std::move(res).err();
  }
  if (cfg.tasks.default_timeout_ms > cfg.tasks.max_timeout_ms)
    return make_error(errc::invalid_field,
                      "invalid setting HIVE_TASKS__DEFAULT_TIMEOUT_MS: larger than "
                      "HIVE_TASKS__MAX_TIMEOUT_MS",
                      "tasks.default_timeout_ms");
  if (cfg.tasks.retry_base_ms > cfg.tasks.retry_max_ms)
    return make_error(errc::invalid_field,
                      "invalid setting HIVE_TASKS__RETRY_BASE_MS: larger than "
                      "HIVE_TASKS__RETRY_MAX_MS",
                      "tasks.retry_base_ms");
  if (cfg.cluster.enabled) {
    auto fail = [](std::string why, const char* field) {
      return make_error(errc::invalid_field, "cluster mode: " + why, field);
    };
    if (cfg.database.url.rfind("postgresql://", 0) != 0 && cfg.database.url.rfind("postgres://", 0) != 0)
      return fail("the nodes share their state in PostgreSQL; set HIVE_DATABASE__URL to a "
                  "postgresql:// URL every node reaches (it is '" + cfg.database.url + "')",
                  "database.url");
    if (cfg.cluster.node_id.empty())
      return fail("set HIVE_CLUSTER__NODE_ID, unique per node", "cluster.node_id");
    if (cfg.cluster.secret.empty())
      return fail("set HIVE_CLUSTER__SECRET, the same on every node", "cluster.secret");
    const auto& k = cfg.cluster;
    bool any_tls = !k.tls_certificate.empty() || !k.tls_key.empty() || !k.tls_ca_file.empty();
    bool all_tls = !k.tls_certificate.empty() && !k.tls_key.empty() && !k.tls_ca_file.empty();
    if (any_tls && !all_tls)
      return fail("TLS needs HIVE_CLUSTER__TLS_CERTIFICATE, HIVE_CLUSTER__TLS_KEY and "
                  "HIVE_CLUSTER__TLS_CA_FILE together",
                  "cluster.tls_certificate");
    for (const auto& [path, field] : {std::pair{k.tls_certificate, "cluster.tls_certificate"},
                                      std::pair{k.tls_key, "cluster.tls_key"},
                                      std::pair{k.tls_ca_file, "cluster.tls_ca_file"}})
      if (!path.empty() && !std::ifstream{path})
        return fail("cannot read " + std::string{field} + " '" + path + "'", field);
    if (cfg.cluster.failure_timeout_ms <= cfg.cluster.heartbeat_interval_ms)
      return fail("HIVE_CLUSTER__FAILURE_TIMEOUT_MS must be longer than the heartbeat interval",
                  "cluster.failure_timeout_ms");
  }
  if (cfg.database.min_connections > cfg.database.max_connections)
    return make_error(errc::invalid_field,
                      "invalid setting HIVE_DATABASE__MIN_CONNECTIONS: larger than "
                      "HIVE_DATABASE__MAX_CONNECTIONS",
                      "database.min_connections");
  // Each warning threshold must lie below its critical one.
  const auto& p = cfg.performance;
  const std::array<std::tuple<const char*, uint32_t, uint32_t>, 4> pairs{{
    {"cpu", p.cpu_warning_threshold, p.cpu_critical_threshold},
    {"memory", p.memory_warning_threshold, p.memory_critical_threshold},
    {"queue", p.queue_warning_threshold, p.queue_critical_threshold},
    {"failure_rate", p.failure_rate_warning_threshold, p.failure_rate_critical_threshold},
  }};
  for (const auto& [name, warning, critical] : pairs) {
    if (warning > critical) {
      auto key = std::string{name} + "_warning_threshold";
      return make_error(errc::invalid_field,
                        "invalid setting HIVE_PERFORMANCE__" + upper(key) + ": larger than HIVE_PERFORMANCE__"
                          + upper(std::string{name} + "_critical_threshold"),
                        "performance." + key);
    }
  }
  return cfg;
}

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** p = environ; p != nullptr && *p != nullptr; ++p)
    out.emplace_back(*p);
  return out;
}

} // namespace hive::runtime
