// Hive on PostgreSQL end to end: the API on the postgres store, and a database outage under a
// running server: /ready and submissions answer 503, running work finishes and its state
// reaches the database once it is back, and the server serves again by itself.
#include <string>

#include "tests/integration/support.hpp"
#include "tests/support/pg_schema.hpp"

using namespace hive::test;

class Postgres : public server_fixture {
protected:
  void SetUp() override {
    server_fixture::SetUp();
    std::string why;
    cluster_ = pg_cluster::start(why);
    ASSERT_TRUE(cluster_) << why;
    overrides.push_back("database.url=" + cluster_->url());
    overrides.push_back("database.min_connections=1");
    overrides.push_back("database.connection_timeout_secs=2");
    start();
  }

  void TearDown() override {
    server_fixture::TearDown(); // the server goes before its database
    cluster_.reset();
  }

  std::unique_ptr<pg_cluster> cluster_;
};

TEST_F(Postgres, TasksRunAndSurviveARestartOfHive) {
  EXPECT_EQ(str(parse_json(get("/api/hive/status").body), "store"), "postgres");
  create_agent(R"({"name":"w"})");
  auto id = submit(R"({"type":"echo","payload":{"n":1},"idempotency_key":"pg-1"})");
  EXPECT_EQ(str(wait_terminal(id), "status"), "completed");
  auto events = parse_json(get("/api/tasks/" + id + "/events").body);
  ASSERT_GE(events.Size(), 3u); // created, running, completed
  EXPECT_EQ(str(events[events.Size() - 1], "status"), "completed");
  restart();
  auto again = parse_json(get("/api/tasks/" + id).body);
  EXPECT_EQ(str(again, "status"), "completed");
  // The idempotency key still answers with the original task.
  auto replay = post("/api/tasks", R"({"type":"echo","idempotency_key":"pg-1"})",
                     {{"Content-Type", "application/json"}});
  EXPECT_EQ(replay.status, 200u);
  EXPECT_EQ(str(parse_json(replay.body), "id"), id);
}

TEST_F(Postgres, OutageAnswers503AndNothingAcceptedIsLost) {
  create_agent(R"({"name":"w"})");
  auto running = submit(R"({"type":"sleep","payload":{"ms":1500}})");
  ASSERT_TRUE(wait_until("/api/tasks/" + running, [](const rapidjson::Document& d) {
    return str(d, "status") == "running";
  }));
  ASSERT_TRUE(cluster_->halt());

  auto ready = get("/ready");
  EXPECT_EQ(ready.status, 503u);
  auto refused = post("/api/tasks", R"({"type":"echo"})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(refused.status, 503u) << refused.body;
  EXPECT_EQ(str(parse_json(refused.body)["error"], "code"), "store_unavailable");
  EXPECT_EQ(refused.header("retry-after"), "1");

  // The sleep finishes while the database is away; its completion waits in memory, and
  // /metrics (which needs no database) shows it held.
  std::this_thread::sleep_for(std::chrono::milliseconds(1800));
  auto metrics = get("/metrics").body;
  EXPECT_EQ(metrics.find("hive_store_held_rows 0\n"), std::string::npos) << "rows are held";
  EXPECT_NE(metrics.find("hive_store_held_rows "), std::string::npos);
  ASSERT_TRUE(cluster_->resume());

  // Back: the server reconnects by itself, and the held state change reaches the database.
  EXPECT_TRUE(wait_until("/ready", [](const rapidjson::Document&) { return true; },
                         std::chrono::seconds(15)));
  auto done = wait_terminal(running, std::chrono::seconds(15));
  EXPECT_EQ(str(done, "status"), "completed");
  auto after = submit(R"({"type":"echo"})");
  EXPECT_EQ(str(wait_terminal(after), "status"), "completed");
  EXPECT_TRUE(wait_until("/api/hive/status", [this](const rapidjson::Document&) {
    return get("/metrics").body.find("hive_store_held_rows 0\n") != std::string::npos;
  }));
  // Only the accepted tasks exist: the refused submission left nothing behind.
  EXPECT_EQ(parse_json(get("/api/tasks").body).Size(), 2u);
}
