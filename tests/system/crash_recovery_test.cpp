// The `hive` binary under load, killed with SIGKILL and restarted: nothing acknowledged is lost.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/support/http_client.hpp"
#include "tests/system/hive_process.hpp"

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
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::unique_ptr<hive_process> launch() {
    auto p = std::make_unique<hive_process>(
      log_path, std::vector<std::string>{"--database.url=sqlite://" + (dir / "hive.db").string(),
                                         "--performance.worker_threads=2",
                                         "--server.io_threads=1", "--tasks.retry_base_ms=20"});
    EXPECT_TRUE(p->started()) << p->log();
    return p;
  }

  std::filesystem::path dir;
  std::string log_path;
};

std::string id_of(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  return d.IsObject() && d.HasMember("id") && d["id"].IsString() ? d["id"].GetString() : "";
}

} // namespace

TEST_F(CrashRecovery, EveryAcknowledgedTaskSurvivesSigkillAndCompletesOnce) {
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
    http_client c{"127.0.0.1", proc->port()};
    c.set_timeout(std::chrono::milliseconds(2000));
    // Submissions cut off by the last kill are retried with the same key.
    for (auto it = unacked.begin(); it != unacked.end();) {
      auto res = c.request("POST", "/api/tasks", R"({"type":"sleep","payload":{"ms":5}})",
                           {{"Content-Type", "application/json"}, {"Idempotency-Key", *it}});
      ASSERT_TRUE(res.status == 201 || res.status == 200) << res.status << " " << res.body;
      acked[*it] = id_of(res.body);
      it = unacked.erase(it);
    }
    if (round == rounds)
      break;
    // Steady load from a second thread; the kill lands at a random moment.
    std::atomic<bool> stop{false};
    std::vector<std::pair<std::string, std::string>> round_acked;
    std::vector<std::string> round_failed;
    std::thread load([&] {
      http_client lc{"127.0.0.1", proc->port()};
      lc.set_timeout(std::chrono::milliseconds(2000));
      while (!stop) {
        auto key = "key-" + std::to_string(next_key++);
        auto res = lc.request("POST", "/api/tasks", R"({"type":"sleep","payload":{"ms":5}})",
                              {{"Content-Type", "application/json"}, {"Idempotency-Key", key}});
        if (res.status == 201)
          round_acked.emplace_back(key, id_of(res.body));
        else
          round_failed.push_back(key);
        if (res.status == 0)
          break; // the server is gone
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 400));
    EXPECT_EQ(proc->stop(SIGKILL), -SIGKILL);
    stop = true;
    load.join();
    for (auto& [k, id] : round_acked)
      acked[k] = id;
    for (auto& k : round_failed)
      unacked.insert(k);
    EXPECT_FALSE(round_acked.empty()) << "round " << round << " acknowledged nothing";
    proc = launch();
    ASSERT_TRUE(proc->started());
  }

  // Every acknowledged task exists and reaches `completed`; the store holds each key once.
  http_client c{"127.0.0.1", proc->port()};
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
  EXPECT_EQ(proc->stop(SIGTERM), 0) << proc->log();
}

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
