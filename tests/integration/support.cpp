// Integration-test fixture implementation.
#include "tests/integration/support.hpp"

#include <mutex>
#include <set>
#include <stdexcept>

namespace hive::test {

std::string str(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "";
}

std::optional<rapidjson::Document> read_until(ws_client& c, const std::string& type,
                                              std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    auto msg = c.read(std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now()));
    if (!msg)
      return std::nullopt;
    auto doc = parse_json(*msg);
    if (str(doc, "type") == type)
      return doc;
  }
  return std::nullopt;
}

rapidjson::Document parse_json(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << body;
  return doc;
}

namespace {

class fail_executor final : public actors::executor {
public:
  explicit fail_executor(bool retryable) : retryable_(retryable) {}
  actors::execution_mode mode(const task_record&) const override {
    return actors::execution_mode::inline_call;
  }
  actors::execution_result run(const task_record&, const actors::execution_context&) const override {
    return actors::execution_result::failure("deliberate failure", retryable_);
  }

private:
  bool retryable_;
};

/// Throws the first time it sees a task id: the exception escapes into the agent actor.
class crash_executor final : public actors::executor {
public:
  actors::execution_mode mode(const task_record&) const override {
    return actors::execution_mode::inline_call;
  }
  actors::execution_result run(const task_record& task, const actors::execution_context&) const override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (seen_.insert(task.id).second)
        throw std::runtime_error("deliberate crash");
    }
    return actors::execution_result::success(R"({"survived":true})");
  }

private:
  mutable std::mutex mtx_;
  mutable std::set<std::string> seen_;
};

/// Throws on every attempt.
class crash_always_executor final : public actors::executor {
public:
  actors::execution_mode mode(const task_record&) const override {
    return actors::execution_mode::inline_call;
  }
  actors::execution_result run(const task_record&, const actors::execution_context&) const override {
    throw std::runtime_error("deliberate crash, every time");
  }
};

/// Holds a blocking-pool thread for payload.ms milliseconds (real work, unlike `sleep`).
class block_executor final : public actors::executor {
public:
  actors::execution_mode mode(const task_record&) const override {
    return actors::execution_mode::blocking;
  }
  actors::execution_result run(const task_record& task, const actors::execution_context&) const override {
    rapidjson::Document doc;
    doc.Parse(task.payload_json.c_str());
    int ms = doc.IsObject() && doc.HasMember("ms") && doc["ms"].IsInt() ? doc["ms"].GetInt() : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return actors::execution_result::success(R"({"blocked":true})");
  }
};

} // namespace

void register_test_executors(actors::executor_registry& registry) {
  registry.add("test.fail", std::make_shared<fail_executor>(true));
  registry.add("test.permanent", std::make_shared<fail_executor>(false));
  registry.add("test.crash", std::make_shared<crash_executor>());
  registry.add("test.crash_always", std::make_shared<crash_always_executor>());
  registry.add("test.block", std::make_shared<block_executor>());
}

void server_fixture::SetUp() {
  auto name = std::string{"hive_it_"}
              + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_"
              + std::to_string(::getpid());
  dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
}

void server_fixture::TearDown() {
  client.reset();
  srv.reset();
  std::filesystem::remove_all(dir);
}

void server_fixture::start() {
  runtime::config_sources src;
  src.flags = {"server.host=127.0.0.1",
               "server.port=0",
               "server.io_threads=1",
               "server.max_body_bytes=4096",
               "server.shutdown_grace_secs=2",
               "performance.worker_threads=2",
               "tasks.retry_base_ms=20",
               "tasks.retry_max_ms=100",
               "tasks.aging_ms=60000",
               "log.level=warn",
               "database.url=sqlite://" + (dir / "hive.db").string()};
  for (const auto& o : overrides)
    src.flags.push_back(o);
  auto cfg = runtime::load_config(src);
  ASSERT_TRUE(cfg.ok()) << cfg.err().message;
  auto started = app::server::start(*cfg, register_test_executors);
  ASSERT_TRUE(started.ok()) << started.err().message;
  srv = std::move(*started);
  client = std::make_unique<http_client>("127.0.0.1", srv->port());
}

void server_fixture::restart() {
  client.reset();
  srv.reset();
  start();
}

namespace {
const http_client::header_list json_header{{"Content-Type", "application/json"}};
}

http_reply server_fixture::get(const std::string& target) {
  return client->request("GET", target);
}

http_reply server_fixture::post(const std::string& target, const std::string& body,
                                http_client::header_list headers) {
  if (headers.empty())
    headers = json_header;
  return client->request("POST", target, body, headers);
}

http_reply server_fixture::patch(const std::string& target, const std::string& body) {
  return client->request("PATCH", target, body, json_header);
}

http_reply server_fixture::del(const std::string& target) {
  return client->request("DELETE", target);
}

std::string server_fixture::create_agent(const std::string& body) {
  auto res = post("/api/agents", body);
  EXPECT_EQ(res.status, 201u) << res.body;
  auto doc = parse_json(res.body);
  return doc.IsObject() && doc.HasMember("id") ? doc["id"].GetString() : "";
}

std::string server_fixture::submit(const std::string& body) {
  auto res = post("/api/tasks", body);
  EXPECT_EQ(res.status, 201u) << res.body;
  auto doc = parse_json(res.body);
  return doc.IsObject() && doc.HasMember("id") ? doc["id"].GetString() : "";
}

bool server_fixture::wait_until(const std::string& target,
                                const std::function<bool(const rapidjson::Document&)>& pred,
                                std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    auto res = get(target);
    if (res.status == 200) {
      auto doc = parse_json(res.body);
      if (pred(doc))
        return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

rapidjson::Document server_fixture::wait_terminal(const std::string& id,
                                                  std::chrono::milliseconds within) {
  rapidjson::Document last;
  auto terminal = [](const rapidjson::Document& d) {
    std::string st = d["status"].GetString();
    return st == "completed" || st == "failed" || st == "cancelled" || st == "dead";
  };
  wait_until("/api/tasks/" + id, terminal, within);
  auto res = get("/api/tasks/" + id);
  last = parse_json(res.body);
  EXPECT_TRUE(last.IsObject() && terminal(last)) << "task never finished: " << res.body;
  return last;
}

} // namespace hive::test
