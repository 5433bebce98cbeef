// Monitoring end to end: throughput and latency in /api/hive/status, the /metrics/history
// ring, and alerts raised and resolved from injected readings (REST, WebSocket, /metrics).
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "tests/integration/support.hpp"
#include "tests/support/ws_client.hpp"

using namespace hive::test;

class Monitoring : public server_fixture {
protected:
  void SetUp() override {
    server_fixture::SetUp();
    overrides.push_back("metrics.history_interval_secs=1");
  }
};

TEST_F(Monitoring, StatusShowsThroughputAndLatencyOfTheWorkDone) {
  start();
  create_agent(R"({"name":"w","max_concurrency":4})");
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i)
    ids.push_back(submit(R"({"type":"sleep","payload":{"ms":5}})"));
  ids.push_back(submit(R"({"type":"test.permanent"})"));
  for (const auto& id : ids)
    wait_terminal(id);
  auto st = parse_json(get("/api/hive/status").body);
  for (const char* w : {"1m", "5m", "15m"}) {
    const auto& t = st["throughput"][w];
    EXPECT_EQ(t["submitted"].GetUint64(), 26u) << w;
    EXPECT_EQ(t["completed"].GetUint64(), 25u) << w;
    EXPECT_EQ(t["failed"].GetUint64(), 1u) << w;
    EXPECT_GT(t["completed_per_sec"].GetDouble(), 0) << w;
    const auto& lat = st["latency_ms"][w];
    EXPECT_EQ(lat["count"].GetUint64(), 25u) << w;
    // Each task slept 5 ms: run time and end-to-end latency are at least that.
    EXPECT_GE(st["run_time_ms"][w]["p50"].GetDouble(), 4.5) << w;
    EXPECT_GE(lat["p99"].GetDouble(), lat["p50"].GetDouble()) << w;
    EXPECT_GE(lat["p50"].GetDouble(), st["run_time_ms"][w]["p50"].GetDouble() * 0.9) << w;
  }
  EXPECT_LE(st["throughput"]["1m"]["window_secs"].GetUint(), 60u);
  EXPECT_TRUE(st["alerts"].IsArray());
  // Once the first snapshot was taken the process figures appear.
  EXPECT_TRUE(wait_until("/api/hive/status", [](const rapidjson::Document& d) {
    return d["resources"].IsObject() && d["resources"]["resident_memory_bytes"].GetDouble() > 0;
  }));
}

TEST_F(Monitoring, HistoryKeepsSnapshotsAndSelectsMetrics) {
  start();
  ASSERT_TRUE(wait_until("/metrics/history?time_range=1h", [](const rapidjson::Document& d) {
    return d["points"].Size() >= 2;
  }));
  auto res = get("/metrics/history?time_range=5m&metrics=cpu_percent,queue_depth,agents_total");
  ASSERT_EQ(res.status, 200u) << res.body;
  auto h = parse_json(res.body);
  EXPECT_EQ(h["interval_secs"].GetUint(), 1u);
  EXPECT_EQ(h["time_range_secs"].GetUint64(), 300u);
  ASSERT_EQ(h["metrics"].Size(), 3u);
  const auto& points = h["points"];
  ASSERT_GE(points.Size(), 2u);
  std::string previous;
  for (const auto& p : points.GetArray()) {
    EXPECT_EQ(p.MemberCount(), 4u) << "ts plus the three metrics asked for";
    EXPECT_TRUE(p["cpu_percent"].IsNumber());
    EXPECT_TRUE(p["queue_depth"].IsNumber());
    EXPECT_GT(str(p, "ts"), previous) << "oldest first";
    previous = str(p, "ts");
  }
  // Every metric when none are named.
  auto all = parse_json(get("/metrics/history").body);
  EXPECT_GE(all["metrics"].Size(), 19u);
  // A short range holds fewer points than a long one.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto recent = parse_json(get("/metrics/history?time_range=2s").body);
  auto longer = parse_json(get("/metrics/history?time_range=1h").body);
  EXPECT_LT(recent["points"].Size(), longer["points"].Size());
  // Bad input: a clear 422 naming the problem.
  auto bad = get("/metrics/history?metrics=cpu_percent,bogus");
  EXPECT_EQ(bad.status, 422u);
  auto err = parse_json(bad.body);
  EXPECT_EQ(str(err["error"], "field"), "metrics");
  EXPECT_NE(str(err["error"], "message").find("bogus"), std::string::npos);
  EXPECT_NE(str(err["error"], "message").find("queue_depth"), std::string::npos)
    << "lists the known metrics";
  bad = get("/metrics/history?time_range=soon");
  EXPECT_EQ(bad.status, 422u);
  EXPECT_EQ(str(parse_json(bad.body)["error"], "field"), "time_range");
  EXPECT_EQ(post("/metrics/history", "{}").status, 405u);
}

TEST_F(Monitoring, CpuAlertFiresAndResolvesWithHysteresis) {
  start();
  // The test plays the machine: readings come from this value instead of /proc.
  auto cpu = std::make_shared<std::atomic<int>>(20);
  srv->engine().set_resource_probe([cpu] {
    hive::runtime::resource_reading r;
    r.cpu_percent = cpu->load();
    r.memory_percent = 10;
    r.memory_limit_bytes = 1e9;
    return r;
  });
  ws_client c{"127.0.0.1", srv->port()};
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_TRUE(c.send(
    R"({"action":"subscribe","data":{"event_types":["alert_raised","alert_resolved","metrics_snapshot"]}})"));
  ASSERT_TRUE(read_until(c, "subscribed"));
  auto snap = read_until(c, "metrics_snapshot");
  ASSERT_TRUE(snap);
  EXPECT_DOUBLE_EQ((*snap)["data"]["snapshot"]["cpu_percent"].GetDouble(), 20);

  cpu->store(95);
  std::vector<std::string> raised;
  while (raised.size() < 2) {
    auto ev = read_until(c, "alert_raised");
    ASSERT_TRUE(ev) << "raised so far: " << raised.size();
    const auto& a = (*ev)["data"]["alert"];
    EXPECT_EQ(str(a, "name"), "cpu");
    EXPECT_DOUBLE_EQ(a["value"].GetDouble(), 95);
    EXPECT_TRUE(a["resolved_at"].IsNull());
    raised.push_back(str(a, "id"));
  }
  std::sort(raised.begin(), raised.end());
  EXPECT_EQ(raised, (std::vector<std::string>{"cpu_critical", "cpu_warning"}));
  auto alerts = parse_json(get("/api/alerts").body);
  EXPECT_EQ(alerts["active"].Size(), 2u);
  EXPECT_EQ(parse_json(get("/api/hive/status").body)["alerts"].Size(), 2u);
  auto metrics = get("/metrics").body;
  EXPECT_NE(metrics.find(R"(hive_alerts_raised_total{alert="cpu",severity="critical"} 1)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(hive_alerts_active{alert="cpu",severity="warning"} 1)"),
            std::string::npos);

  // 67% is below the warning threshold (70) but inside its hysteresis band (5): nothing
  // resolves, and nothing is raised again. 85 drops below critical's band (90 - 5).
  cpu->store(67);
  auto quiet_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  std::vector<std::string> resolved;
  while (std::chrono::steady_clock::now() < quiet_until) {
    // A snapshot arrives every second, so this read never gives up (which would end the
    // client's stream).
    auto msg = c.read(std::chrono::seconds(3));
    ASSERT_TRUE(msg);
    auto doc = parse_json(*msg);
    EXPECT_NE(str(doc, "type"), "alert_raised") << "de-duplicated";
    if (str(doc, "type") == "alert_resolved")
      resolved.push_back(str(doc["data"]["alert"], "id"));
  }
  EXPECT_EQ(resolved, (std::vector<std::string>{"cpu_critical"}));
  alerts = parse_json(get("/api/alerts").body);
  ASSERT_EQ(alerts["active"].Size(), 1u);
  EXPECT_EQ(str(alerts["active"][0], "id"), "cpu_warning");

  cpu->store(30);
  auto ev = read_until(c, "alert_resolved");
  ASSERT_TRUE(ev);
  EXPECT_EQ(str((*ev)["data"]["alert"], "id"), "cpu_warning");
  EXPECT_FALSE((*ev)["data"]["alert"]["resolved_at"].IsNull());
  alerts = parse_json(get("/api/alerts").body);
  EXPECT_EQ(alerts["active"].Size(), 0u);
  EXPECT_EQ(alerts["recent"].Size(), 2u);
  metrics = get("/metrics").body;
  EXPECT_NE(metrics.find(R"(hive_alerts_active{alert="cpu",severity="warning"} 0)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(hive_alerts_raised_total{alert="cpu",severity="warning"} 1)"),
            std::string::npos);
}
