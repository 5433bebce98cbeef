// The WebSocket stream end to end: a real server, real WebSocket clients, real tasks.
#include <string>
#include <vector>

#include "tests/integration/support.hpp"
#include "tests/support/ws_client.hpp"

using namespace hive::test;

class WebSocket : public server_fixture {
protected:
  void SetUp() override {
    server_fixture::SetUp();
    start();
  }
};

TEST_F(WebSocket, SnapshotFirstThenATasksEventsInOrder) {
  ws_client c{"127.0.0.1", srv->port()};
  ASSERT_TRUE(c.ok()) << c.error();
  auto first = c.read();
  ASSERT_TRUE(first);
  auto snap = parse_json(*first);
  EXPECT_EQ(str(snap, "type"), "hive_status");
  EXPECT_EQ(snap["seq"].GetUint64(), 1u);
  EXPECT_TRUE(snap["data"]["agents"].IsObject());

  create_agent(R"({"name":"w"})");
  auto id = submit(R"({"type":"echo","payload":{"n":1}})");
  std::vector<std::string> seen;
  uint64_t last_seq = 1;
  while (seen.size() < 20) {
    auto msg = c.read();
    ASSERT_TRUE(msg) << "stream stopped after " << seen.size() << " events";
    auto doc = parse_json(*msg);
    EXPECT_EQ(doc["seq"].GetUint64(), last_seq + 1) << "per-connection sequence";
    last_seq = doc["seq"].GetUint64();
    EXPECT_TRUE(doc["ts"].IsInt64());
    const auto& data = doc["data"];
    if (data.HasMember("task") && str(data["task"], "id") == id) {
      seen.push_back(str(doc, "type"));
      if (seen.back() == "task_completed") {
        EXPECT_EQ(str(data["task"], "status"), "completed");
        break;
      }
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"task_created", "task_assigned", "task_started",
                                            "task_completed"}));
}

TEST_F(WebSocket, FiltersActionsAndBadFrames) {
  ws_client c{"127.0.0.1", srv->port()};
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(read_until(c, "hive_status"));
  // Only completions of nlp.analyze tasks.
  ASSERT_TRUE(c.send(R"({"action":"subscribe","correlation_id":"s1","data":{"event_types":["task_completed"],"task_types":["nlp.analyze"]}})"));
  auto ack = read_until(c, "subscribed");
  ASSERT_TRUE(ack);
  EXPECT_EQ(str(*ack, "correlation_id"), "s1");

  // Actions over the socket: create an agent and two tasks.
  ASSERT_TRUE(c.send(R"({"action":"create_agent","correlation_id":7,"data":{"name":"ws-agent"}})"));
  auto agent = read_until(c, "agent_accepted");
  ASSERT_TRUE(agent);
  EXPECT_EQ((*agent)["correlation_id"].GetInt(), 7);
  ASSERT_TRUE(c.send(R"({"action":"create_task","correlation_id":"t1","data":{"type":"echo"}})"));
  ASSERT_TRUE(read_until(c, "task_accepted"));
  ASSERT_TRUE(c.send(R"({"action":"create_task","correlation_id":"t2","data":{"type":"nlp.analyze","payload":{"text":"Great work. Fine."}}})"));
  auto nlp = read_until(c, "task_accepted");
  ASSERT_TRUE(nlp);
  auto nlp_id = str((*nlp)["data"], "id");
  auto done = read_until(c, "task_completed");
  ASSERT_TRUE(done);
  EXPECT_EQ(str((*done)["data"]["task"], "id"), nlp_id) << "the echo task was filtered out";

  // Bad frames get an error reply; the socket stays open.
  ASSERT_TRUE(c.send("not json"));
  auto err = read_until(c, "error");
  ASSERT_TRUE(err);
  EXPECT_EQ(str((*err)["data"]["error"], "code"), "malformed_json");
  ASSERT_TRUE(c.send(R"({"action":"teleport","correlation_id":"x"})"));
  err = read_until(c, "error");
  ASSERT_TRUE(err);
  EXPECT_EQ(str(*err, "correlation_id"), "x");
  ASSERT_TRUE(c.send(R"({"action":"create_task","data":{"type":"nope"}})"));
  err = read_until(c, "error");
  ASSERT_TRUE(err);
  EXPECT_EQ(str((*err)["data"]["error"], "code"), "unknown_task_type");
  ASSERT_TRUE(c.send(R"({"action":"ping","correlation_id":"p"})"));
  EXPECT_TRUE(read_until(c, "pong"));
  ASSERT_TRUE(c.send(R"({"action":"get_status"})"));
  EXPECT_TRUE(read_until(c, "hive_status"));
  EXPECT_FALSE(c.closed());
}

TEST_F(WebSocket, ASlowClientIsDroppedWhileOthersKeepReceiving) {
  overrides = {"websocket.send_queue_max=64", "websocket.drop_after_missed=200",
               "server.max_body_bytes=1048576"};
  restart();
  ws_client slow{"127.0.0.1", srv->port()};
  ASSERT_TRUE(slow.ok());
  slow.shrink_receive_buffer();
  ws_client fast{"127.0.0.1", srv->port()};
  ASSERT_TRUE(fast.ok());
  ASSERT_TRUE(read_until(fast, "hive_status"));
  // The fast client takes completions only (25 per batch, within its queue); the slow one
  // takes everything (100 per batch) and reads nothing.
  ASSERT_TRUE(fast.send(R"({"action":"subscribe","data":{"event_types":["task_completed"]}})"));
  ASSERT_TRUE(read_until(fast, "subscribed"));
  // Many events with large payloads; the slow client never reads.
  std::string big(8000, 'x'); // 20 x 25 tasks x 4 events x 8 KB: far beyond socket buffers
  create_agent(R"({"name":"w","max_concurrency":64})");
  size_t completed = 0;
  for (int round = 0; round < 20; ++round) {
    std::string batch = R"({"tasks":[)";
    for (int i = 0; i < 25; ++i)
      batch += std::string{i ? "," : ""} + R"({"type":"echo","description":")" + big + R"("})";
    batch += "]}";
    ASSERT_EQ(post("/api/tasks/batch", batch).status, 201u);
    // The fast client keeps up.
    while (auto msg = fast.read(std::chrono::seconds(10))) {
      if (msg->find(R"("type":"task_completed")") != std::string::npos)
        ++completed;
      if (completed >= static_cast<size_t>((round + 1) * 25))
        break;
    }
  }
  // Whatever is still on its way (a loaded machine) arrives within a deadline.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (completed < 500 && std::chrono::steady_clock::now() < deadline && !fast.closed()
         && !fast.timed_out())
    if (auto msg = fast.read(std::chrono::milliseconds(500)))
      if (msg->find(R"("type":"task_completed")") != std::string::npos)
        ++completed;
  EXPECT_EQ(completed, 500u) << "the fast client saw every completion";
  // The slow one was cut off (a reset): reading now drains what its own kernel buffer held,
  // then fails.
  bool ended = false;
  for (int i = 0; i < 2000 && !ended; ++i)
    ended = !slow.read(std::chrono::milliseconds(500));
  EXPECT_TRUE(slow.closed()) << "the server dropped the lagging client";
  // And /metrics says so.
  auto metrics = get("/metrics").body;
  EXPECT_NE(metrics.find("hive_websocket_clients_dropped_total 1"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("hive_websocket_events_dropped_total 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("hive_websocket_connections 1"), std::string::npos)
    << "only the fast client is still connected";
}

TEST_F(WebSocket, PingsAreAnsweredAndTheClosingHandshakeCompletes) {
  ws_client c{"127.0.0.1", srv->port()};
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(read_until(c, "hive_status"));
  ASSERT_TRUE(c.ping());
  ASSERT_TRUE(c.send(R"({"action":"ping","correlation_id":1})"));
  ASSERT_TRUE(read_until(c, "pong"));
  EXPECT_EQ(c.pongs_seen(), 1) << "the pong frame came before the reply to the next message";
  EXPECT_TRUE(c.close_handshake()) << "the server answers the close frame and ends the TCP stream";
  // The server forgot the session.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (get("/metrics").body.find("hive_websocket_connections 0") == std::string::npos
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_NE(get("/metrics").body.find("hive_websocket_connections 0"), std::string::npos);
}

TEST_F(WebSocket, ConnectionLimitRefusesTheUpgrade) {
  overrides = {"websocket.max_connections=1"};
  restart();
  ws_client first{"127.0.0.1", srv->port()};
  ASSERT_TRUE(first.ok());
  ws_client second{"127.0.0.1", srv->port()};
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.refused_status(), 503u);
}


TEST_F(WebSocket, ALaggingClientIsToldWhatItMissed) {
  overrides = {"websocket.send_queue_max=2", "websocket.drop_after_missed=100000000"};
  restart();
  ws_client c{"127.0.0.1", srv->port()};
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(read_until(c, "hive_status"));
  create_agent(R"({"name":"w","max_concurrency":64})");
  // Bursts of hundreds of events into a queue of two: most are dropped for this client.
  std::string batch = R"({"tasks":[)";
  for (int i = 0; i < 40; ++i)
    batch += std::string{i ? "," : ""} + R"({"type":"echo"})";
  batch += "]}";
  for (int round = 0; round < 3; ++round)
    ASSERT_EQ(post("/api/tasks/batch", batch).status, 201u);
  uint64_t last_seq = 0;
  uint64_t missed = 0;
  while (auto msg = c.read(std::chrono::seconds(1))) { // ends when the stream goes quiet
    auto doc = parse_json(*msg);
    if (last_seq != 0) {
      EXPECT_EQ(doc["seq"].GetUint64(), last_seq + 1) << "no gaps: drops are reported instead";
    }
    last_seq = doc["seq"].GetUint64();
    if (str(doc, "type") == "lagged")
      missed += doc["data"]["missed"].GetUint64();
  }
  EXPECT_FALSE(c.closed()) << "a lagging client below drop_after_missed is kept";
  EXPECT_GT(missed, 0u);
  // Every event was either sent or counted as dropped, and nobody was disconnected.
  auto metrics = get("/metrics").body;
  EXPECT_NE(metrics.find("hive_websocket_clients_dropped_total 0"), std::string::npos);
  EXPECT_EQ(metrics.find("hive_websocket_events_dropped_total 0\n"), std::string::npos);
}
