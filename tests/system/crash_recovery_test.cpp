// The `hive` binary under load, killed with SIGKILL and restarted: nothing acknowledged is lost.
#include <signal.h>

#include <atomic>
#include <iostream>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "build_config.hpp"
#include "tests/support/http_client.hpp"
#include "tests/system/hive_process.hpp"
#if HIVE_ENABLE_POSTGRES
#include "tests/support/pg_schema.hpp"
#endif

using namespace hive::test;

namespace {

const http_client::header_list json_header{{"Content-Type", "application/json"}};

class CrashRecovery : public ::testing::Test {
protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path()
          / ("hive_sys_" + std::string{::testing::UnitTest::GetInstance()->current_test_info()->name()}
             + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    log_path = (dir / "hive.log").string();
    database_url = "sqlite://" + (dir / "hive.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::unique_ptr<hive_process> launch() {
    auto p = std::make_unique<hive_process>(
      log_path, std::vector<std::string>{"--database.url=" + database_url,
                                         "--database.min_connections=1",
                                         "--database.connection_timeout_secs=2",
                                         "--performance.worker_threads=2",
                                         "--server.io_threads=1", "--tasks.retry_base_ms=20"});
    EXPECT_TRUE(p->started()) << p->log();
    return p;
  }

  std::filesystem::path dir;
  std::string log_path;
  std::string database_url;
};

/// The same, once per store: SQLite, and PostgreSQL in a private schema of the test cluster.
class CrashRecoveryOnStore : public CrashRecovery,
                             public ::testing::WithParamInterface<std::string> {
protected:
  void SetUp() override {
    CrashRecovery::SetUp();
#if HIVE_ENABLE_POSTGRES
    if (GetParam() == "postgres") {
      std::string why;
      schema = pg_schema::create(why);
      if (!schema) {
        if (std::getenv("HIVE_TEST_REQUIRE_POSTGRES") != nullptr)
          FAIL() << why;
        GTEST_SKIP() << why;
      }
      database_url = schema->url();
    }
#endif
  }
#if HIVE_ENABLE_POSTGRES
  std::unique_ptr<pg_schema> schema;
#endif
};

std::string id_of(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  return d.IsObject() && d.HasMember("id") && d["id"].IsString() ? d["id"].GetString() : "";
}

} // namespace

/// Waits until every task stored is completed and there are at least as many as were
/// acknowledged; then checks that each acknowledged task is there, once, and that a replay of
/// a key still answers with its original task.
void expect_every_acknowledged_task_completes_once(
  uint16_t port, const std::map<std::string, std::string>& acked) {
  http_client c{"127.0.0.1", port};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  size_t completed = 0;
  std::set<std::string> seen_ids;
  while (std::chrono::steady_clock::now() < deadline) {
    completed = 0;
    seen_ids.clear();
    std::string after;
    for (;;) {
      auto res = c.request("GET", "/api/tasks?limit=1000" + (after.empty() ? "" : "&after=" + after));
      ASSERT_EQ(res.status, 200u);
      rapidjson::Document d;
      d.Parse(res.body.c_str());
      ASSERT_TRUE(d.IsArray());
      for (auto& t : d.GetArray()) {
        seen_ids.insert(t["id"].GetString());
        if (std::string{t["status"].GetString()} == "completed")
          ++completed;
      }
      after = res.header("x-next-cursor");
      if (after.empty())
        break;
    }
    if (completed == seen_ids.size() && completed >= acked.size())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(seen_ids.size(), acked.size()) << "one task per idempotency key, none lost";
  EXPECT_EQ(completed, seen_ids.size()) << "every task finished";
  for (auto& [key, id] : acked)
    EXPECT_TRUE(seen_ids.count(id)) << "acknowledged task " << id << " (" << key << ") is missing";
  EXPECT_GT(acked.size(), 30u) << "the load was too light to mean anything";

  // A replay after all the restarts still returns the original task.
  auto& [key, id] = *acked.begin();
  auto replay = c.request("POST", "/api/tasks", R"({"type":"sleep","payload":{"ms":5}})",
                          {{"Content-Type", "application/json"}, {"Idempotency-Key", key}});
  EXPECT_EQ(replay.status, 200u);
  EXPECT_EQ(id_of(replay.body), id);
}

/// Submits sleep tasks with fresh idempotency keys from a second thread until `stop`; records
/// which were acknowledged (201) and which not (retried later with the same key).
struct steady_load {
  std::atomic<bool> stop{false};
  std::vector<std::pair<std::string, std::string>> acked;
  std::vector<std::string> failed;
  std::thread thread;

  steady_load(uint16_t port, int& next_key, bool stop_when_gone = true) {
    thread = std::thread([this, port, &next_key, stop_when_gone] {
      http_client lc{"127.0.0.1", port};
      lc.set_timeout(std::chrono::milliseconds(2000));
      while (!stop) {
        auto key = "key-" + std::to_string(next_key++);
        auto res = lc.request("POST", "/api/tasks", R"({"type":"sleep","payload":{"ms":5}})",
                              {{"Content-Type", "application/json"}, {"Idempotency-Key", key}});
        if (res.status == 201)
          acked.emplace_back(key, id_of(res.body));
        else
          failed.push_back(key);
        if (res.status == 0 && stop_when_gone)
          break; // the server is gone
        if (res.status != 201)
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  void finish() {
    stop = true;
    thread.join();
  }
};

/// Submits every key not yet acknowledged again (same key), until each is.
void resubmit(uint16_t port, std::set<std::string>& unacked,
              std::map<std::string, std::string>& acked) {
  http_client c{"127.0.0.1", port};
  c.set_timeout(std::chrono::milliseconds(2000));
  for (auto it = unacked.begin(); it != unacked.end();) {
    auto res = c.request("POST", "/api/tasks", R"({"type":"sleep","payload":{"ms":5}})",
                         {{"Content-Type", "application/json"}, {"Idempotency-Key", *it}});
    ASSERT_TRUE(res.status == 201 || res.status == 200) << res.status << " " << res.body;
    acked[*it] = id_of(res.body);
    it = unacked.erase(it);
  }
}

TEST_P(CrashRecoveryOnStore, EveryAcknowledgedTaskSurvivesSigkillAndCompletesOnce) {
  auto proc = launch();
  ASSERT_TRUE(proc->started());
  {
    http_client c{"127.0.0.1", proc->port()};
    auto res = c.request("POST", "/api/agents", R"({"name":"worker","max_concurrency":16})",
                         json_header);
    ASSERT_EQ(res.status, 201u) << res.body;
  }

  std::map<std::string, std::string> acked; // idempotency key -> task id
  std::set<std::string> unacked;            // keys tried but not acknowledged
  int next_key = 0;
  std::mt19937 rng{42};
  const int rounds = 3;
  for (int round = 0; round <= rounds; ++round) {
    // Submissions cut off by the last kill are retried with the same key.
    resubmit(proc->port(), unacked, acked);
    if (round == rounds)
      break;
    // Steady load from a second thread; the kill lands at a random moment.
    steady_load load{proc->port(), next_key};
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 400));
    EXPECT_EQ(proc->stop(SIGKILL), -SIGKILL);
    load.finish();
    for (auto& [k, id] : load.acked)
      acked[k] = id;
    for (auto& k : load.failed)
      unacked.insert(k);
    EXPECT_FALSE(load.acked.empty()) << "round " << round << " acknowledged nothing";
    proc = launch();
    ASSERT_TRUE(proc->started());
  }
  expect_every_acknowledged_task_completes_once(proc->port(), acked);
  EXPECT_EQ(proc->stop(SIGTERM), 0) << proc->log();
}

#if HIVE_ENABLE_POSTGRES
INSTANTIATE_TEST_SUITE_P(Stores, CrashRecoveryOnStore, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });
#else
INSTANTIATE_TEST_SUITE_P(Stores, CrashRecoveryOnStore, ::testing::Values("sqlite"),
                         [](const auto& info) { return info.param; });
#endif

#if HIVE_ENABLE_POSTGRES
// The database restarts (twice, at random moments) under a steady load: submissions meanwhile
// get 503 and are retried with their key; nothing acknowledged is lost or stored twice.
TEST_F(CrashRecovery, PostgresRestartUnderLoadLosesNothing) {
  std::string why;
  auto cluster = pg_cluster::start(why);
  ASSERT_TRUE(cluster) << why;
  database_url = cluster->url();
  auto proc = launch();
  ASSERT_TRUE(proc->started());
  {
    http_client c{"127.0.0.1", proc->port()};
    ASSERT_EQ(c.request("POST", "/api/agents", R"({"name":"worker","max_concurrency":16})",
                        json_header)
                .status,
              201u);
  }
  std::map<std::string, std::string> acked;
  std::set<std::string> unacked;
  int next_key = 0;
  std::mt19937 rng{7};
  {
    steady_load load{proc->port(), next_key, /*stop_when_gone=*/false};
    for (int round = 0; round < 2; ++round) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 400));
      ASSERT_TRUE(cluster->restart());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    load.finish();
    for (auto& [k, id] : load.acked)
      acked[k] = id;
    for (auto& k : load.failed)
      unacked.insert(k);
  }
  std::cout << "[ info     ] " << acked.size() << " acknowledged under load, " << unacked.size()
            << " refused while the database restarted and submitted again\n";
  resubmit(proc->port(), unacked, acked);
  expect_every_acknowledged_task_completes_once(proc->port(), acked);
  EXPECT_EQ(proc->stop(SIGTERM), 0) << proc->log();
}
#endif

TEST_F(CrashRecovery, SigtermFinishesRunningWorkAndExitsZero) {
  auto proc = launch();
  ASSERT_TRUE(proc->started());
  http_client c{"127.0.0.1", proc->port()};
  ASSERT_EQ(c.request("POST", "/api/agents", R"({"name":"w","max_concurrency":4})", json_header).status,
            201u);
  auto res = c.request("POST", "/api/tasks", R"({"type":"sleep","payload":{"ms":300}})", json_header);
  ASSERT_EQ(res.status, 201u);
  auto id = id_of(res.body);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(proc->stop(SIGTERM), 0) << proc->log();
  EXPECT_NE(proc->log().find("stopped cleanly"), std::string::npos);
  // The running task was allowed to finish before the exit.
  proc = launch();
  ASSERT_TRUE(proc->started());
  http_client c2{"127.0.0.1", proc->port()};
  auto task = c2.request("GET", "/api/tasks/" + id);
  rapidjson::Document d;
  d.Parse(task.body.c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["status"].GetString(), "completed");
}

TEST_F(CrashRecovery, BadSettingStopsTheServerWithAMessage) {
  hive_process p{log_path, {"--server.max_connections=0"}};
  EXPECT_FALSE(p.started());
  EXPECT_NE(p.log().find("HIVE_SERVER__MAX_CONNECTIONS"), std::string::npos) << p.log();
}
