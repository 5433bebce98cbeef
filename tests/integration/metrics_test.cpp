// GET /metrics end to end: Prometheus text whose counters move with the work a real server does.
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/support.hpp"

using namespace hive::test;

namespace {

/// One sample line: `name{labels} value`.
struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// A scrape, parsed by the rules of the text exposition format (version 0.0.4).
struct exposition {
  std::map<std::string, std::string> types; ///< family name -> counter, gauge, histogram, ...
  std::vector<sample> samples;
  std::vector<std::string> errors; ///< every line that broke a rule

  /// The family a sample belongs to (histogram and summary samples carry a suffix).
  std::string family_of(const std::string& name) const {
    if (types.count(name))
      return name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s{suffix};
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        auto base = name.substr(0, name.size() - s.size());
        auto t = types.find(base);
        if (t != types.end() && (t->second == "histogram" || t->second == "summary"))
          return base;
      }
    }
    return {};
  }

  /// The value of the one sample with this name and exactly these labels; -1 if absent.
  double value(const std::string& name, const std::map<std::string, std::string>& labels = {})
    const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels)
        return s.value;
    return -1;
  }

  /// The sum over samples of `name` whose labels include `labels`.
  double sum(const std::string& name, const std::map<std::string, std::string>& labels = {})
    const {
    double total = 0;
    for (const auto& s : samples) {
      if (s.name != name)
        continue;
      bool match = true;
      for (const auto& [k, v] : labels)
        match = match && s.labels.count(k) && s.labels.at(k) == v;
      if (match)
        total += s.value;
    }
    return total;
  }
};

bool is_name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'
         || (!first && std::isdigit(static_cast<unsigned char>(c)));
}

/// Parses `name{k="v",...} value [timestamp]`; false on any deviation.
bool parse_sample(const std::string& line, sample& out) {
  size_t i = 0;
  while (i < line.size() && is_name_char(line[i], i == 0))
    ++i;
  if (i == 0)
    return false;
  out.name = line.substr(0, i);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      auto start = i;
      while (i < line.size() && is_name_char(line[i], i == start))
        ++i;
      if (i == start || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
        return false;
      auto key = line.substr(start, i - start);
      i += 2;
      std::string value;
      for (; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\') {
          if (++i >= line.size())
            return false;
          value.push_back(line[i] == 'n' ? '\n' : line[i]);
        } else {
          value.push_back(line[i]);
        }
      }
      if (i >= line.size())
        return false;
      ++i; // closing quote
      if (!out.labels.emplace(key, value).second)
        return false; // a label given twice
      if (i < line.size() && line[i] == ',')
        ++i;
    }
    if (i >= line.size())
      return false;
    ++i; // '}'
  }
  if (i >= line.size() || line[i] != ' ')
    return false;
  auto rest = line.substr(i + 1);
  auto space = rest.find(' ');
  auto number = rest.substr(0, space);
  if (number == "+Inf" || number == "-Inf" || number == "NaN") {
    out.value = number == "NaN" ? 0 : (number == "+Inf" ? 1e308 : -1e308);
    return true;
  }
  char* end = nullptr;
  out.value = std::strtod(number.c_str(), &end);
  return !number.empty() && end == number.c_str() + number.size();
}

exposition parse_exposition(const std::string& text) {
  exposition out;
  static const std::set<std::string> kinds{"counter", "gauge", "histogram", "summary", "untyped"};
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) {
      out.errors.push_back("no newline after the last line");
      end = text.size();
    }
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty())
      continue;
    if (line[0] == '#') {
      if (line.rfind("# TYPE ", 0) == 0) {
        auto rest = line.substr(7);
        auto space = rest.find(' ');
        auto name = rest.substr(0, space);
        auto kind = space == std::string::npos ? "" : rest.substr(space + 1);
        if (!kinds.count(kind) || !out.types.emplace(name, kind).second)
          out.errors.push_back(line);
      }
      continue; // # HELP and other comments
    }
    sample s;
    if (!parse_sample(line, s)) {
      out.errors.push_back(line);
      continue;
    }
    if (out.family_of(s.name).empty())
      out.errors.push_back("no # TYPE before " + line);
    out.samples.push_back(std::move(s));
  }
  return out;
}

} // namespace

class Metrics : public server_fixture {
protected:
  /// Scrapes /metrics and parses it; the test fails if it is not valid Prometheus text.
  exposition scrape() {
    auto res = get("/metrics");
    EXPECT_EQ(res.status, 200u) << res.body;
    EXPECT_EQ(res.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    auto parsed = parse_exposition(res.body);
    for (const auto& e : parsed.errors)
      ADD_FAILURE() << "not Prometheus text: " << e;
    return parsed;
  }

  /// Scrapes until `pred` holds (the bus and the writer update metrics asynchronously).
  bool scrape_until(const std::function<bool(const exposition&)>& pred,
                    std::chrono::milliseconds within = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(scrape()))
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

TEST_F(Metrics, ScrapeIsPrometheusTextWithEveryFamily) {
  start();
  auto m = scrape();
  ASSERT_TRUE(m.errors.empty());
  EXPECT_EQ(m.types["process_cpu_seconds_total"], "counter");
  for (const char* g : {"process_resident_memory_bytes", "process_open_fds",
                        "process_start_time_seconds", "hive_live_task_actors", "hive_tasks_running",
                        "hive_queue_depth", "hive_agents"})
    EXPECT_EQ(m.types[g], "gauge") << g;
  for (const char* h : {"hive_task_queue_wait_seconds", "hive_task_run_seconds",
                        "hive_store_commit_batch_size", "hive_store_commit_seconds"})
    EXPECT_EQ(m.types[h], "histogram") << h;
  for (const char* c : {"hive_agent_restarts_total", "hive_store_commits_total",
                        "hive_store_commit_failures_total"})
    EXPECT_EQ(m.types[c], "counter") << c;
  EXPECT_GT(m.value("process_resident_memory_bytes"), 0);
  EXPECT_GT(m.value("process_open_fds"), 0);
  for (const char* p : {"low", "medium", "high", "critical"})
    EXPECT_EQ(m.value("hive_queue_depth", {{"priority", p}}), 0) << p;
  for (const char* s : {"idle", "working", "paused", "failed", "offline"})
    EXPECT_EQ(m.value("hive_agents", {{"state", s}}), 0) << s;
}

TEST_F(Metrics, CountersMoveWithTheWorkDone) {
  start();
  auto agent = create_agent(R"({"name":"w1","type":"worker","capabilities":["general"]})");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(submit(R"({"type":"echo","payload":{"i":1}})"));
  for (const auto& id : ids)
    wait_terminal(id);

  exposition m;
  EXPECT_TRUE(scrape_until([&](const exposition& x) {
    m = x;
    return x.value("hive_tasks_finished_total", {{"type", "echo"}, {"outcome", "completed"}}) == 3
           && x.value("hive_task_run_seconds_count") == 3;
  })) << "finished: "
      << m.value("hive_tasks_finished_total", {{"type", "echo"}, {"outcome", "completed"}});
  EXPECT_EQ(m.value("hive_tasks_submitted_total", {{"type", "echo"}}), 3);
  EXPECT_EQ(m.value("hive_tasks_finished_total", {{"type", "echo"}, {"outcome", "failed"}}), 0);
  EXPECT_EQ(m.value("hive_task_retries_total", {{"type", "echo"}}), 0);
  EXPECT_EQ(m.value("hive_task_queue_wait_seconds_count"), 3);
  EXPECT_GE(m.value("hive_task_queue_wait_seconds_sum"), 0);
  EXPECT_EQ(m.sum("hive_agents"), 1);

  // HTTP: counted by route pattern, never by raw path.
  EXPECT_EQ(m.value("hive_http_requests_total",
                    {{"route", "/api/tasks"}, {"method", "POST"}, {"status", "201"}}),
            3);
  EXPECT_EQ(m.value("hive_http_requests_total",
                    {{"route", "/api/agents"}, {"method", "POST"}, {"status", "201"}}),
            1);
  EXPECT_GE(m.value("hive_http_requests_total",
                    {{"route", "/api/tasks/{id}"}, {"method", "GET"}, {"status", "200"}}),
            6); // wait_terminal reads each task at least twice
  EXPECT_EQ(m.value("hive_http_request_duration_seconds_count",
                    {{"route", "/api/tasks"}, {"method", "POST"}}),
            3);
  for (const auto& s : m.samples)
    for (const auto& [key, value] : s.labels)
      for (const auto& id : ids)
        EXPECT_EQ(value.find(id), std::string::npos) << s.name << " has a raw path label";

  // The store committed the work, in transactions of at least one row each.
  EXPECT_GT(m.value("hive_store_commits_total"), 0);
  EXPECT_EQ(m.value("hive_store_commit_failures_total"), 0);
  EXPECT_EQ(m.value("hive_store_commit_batch_size_count"), m.value("hive_store_commits_total"));
  EXPECT_GE(m.value("hive_store_commit_batch_size_sum"), 3 * 3); // task + events per task
  EXPECT_EQ(m.value("hive_store_commit_seconds_count"), m.value("hive_store_commits_total"));
}

TEST_F(Metrics, QueueDepthGaugeReflectsQueuedTasks) {
  start();
  // No agent yet: the tasks wait in the queue.
  submit(R"({"type":"echo","priority":"high"})");
  submit(R"({"type":"echo","priority":"high"})");
  submit(R"({"type":"echo","priority":"low"})");
  exposition m;
  EXPECT_TRUE(scrape_until([&](const exposition& x) {
    m = x;
    return x.value("hive_queue_depth", {{"priority", "high"}}) == 2
           && x.value("hive_queue_depth", {{"priority", "low"}}) == 1;
  })) << "high " << m.value("hive_queue_depth", {{"priority", "high"}}) << ", low "
      << m.value("hive_queue_depth", {{"priority", "low"}});
  EXPECT_EQ(m.value("hive_queue_depth", {{"priority", "medium"}}), 0);
  EXPECT_EQ(m.value("hive_tasks_running"), 0);

  // An agent drains the queue.
  create_agent(R"({"name":"w1","type":"worker","capabilities":["general"]})");
  EXPECT_TRUE(scrape_until([](const exposition& x) {
    return x.sum("hive_queue_depth") == 0
           && x.value("hive_tasks_finished_total", {{"type", "echo"}, {"outcome", "completed"}})
                == 3;
  }));
}

TEST_F(Metrics, RetriesAndDeadTasksAreCounted) {
  start();
  create_agent(R"({"name":"w1","type":"worker","capabilities":["general"]})");
  auto id = submit(R"({"type":"test.fail","max_retries":2})");
  wait_terminal(id);
  exposition m;
  EXPECT_TRUE(scrape_until([&](const exposition& x) {
    m = x;
    return x.value("hive_tasks_finished_total", {{"type", "test.fail"}, {"outcome", "dead"}}) == 1;
  }));
  EXPECT_EQ(m.value("hive_task_retries_total", {{"type", "test.fail"}}), 2);
  EXPECT_EQ(m.value("hive_task_run_seconds_count"), 0); // only completions are timed
  EXPECT_EQ(m.value("hive_task_queue_wait_seconds_count"), 1); // the first start only
}

TEST_F(Metrics, UnknownRoutesAndBadMethodsAreCountedWithoutTheirPath) {
  start();
  EXPECT_EQ(get("/nope/12345").status, 404u);
  EXPECT_EQ(client->request("DELETE", "/api/tasks").status, 405u);
  auto m = scrape();
  EXPECT_EQ(m.value("hive_http_requests_total",
                    {{"route", "unmatched"}, {"method", "GET"}, {"status", "404"}}),
            1);
  EXPECT_EQ(m.value("hive_http_requests_total",
                    {{"route", "/api/tasks"}, {"method", "DELETE"}, {"status", "405"}}),
            1);
  // The scrape itself is counted once it has answered.
  EXPECT_EQ(scrape().value("hive_http_requests_total",
                           {{"route", "/metrics"}, {"method", "GET"}, {"status", "200"}}),
            1);
}

TEST_F(Metrics, DisabledMetricsAnswer404AndTheApiStillWorks) {
  overrides = {"metrics.enabled=false"};
  start();
  auto res = get("/metrics");
  EXPECT_EQ(res.status, 404u) << res.body;
  create_agent(R"({"name":"w1","type":"worker","capabilities":["general"]})");
  auto id = submit(R"({"type":"echo"})");
  EXPECT_EQ(wait_terminal(id)["status"].GetString(), std::string{"completed"});
}
