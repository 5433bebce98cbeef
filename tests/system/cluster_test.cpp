// Cluster membership: real `hive` processes on loopback ports sharing a PostgreSQL schema.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/support/http_client.hpp"
#include "tests/support/pg_schema.hpp"
#include "tests/support/ws_client.hpp"
#include "tests/system/hive_process.hpp"

#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace hive::test {
namespace {

using namespace std::chrono_literals;

/// A TCP port nobody listens on right now (the kernel's choice for port 0).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class Cluster : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    schema_ = pg_schema::create(why);
    if (!schema_) {
      if (std::getenv("HIVE_TEST_REQUIRE_POSTGRES") != nullptr)
        FAIL() << why;
      GTEST_SKIP() << why;
    }
    dir_ = std::filesystem::temp_directory_path()
           / ("hive-cluster-" + std::to_string(::getpid()) + "-"
              + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    for (int i = 0; i < 3; ++i)
      ports_.push_back(free_port());
    seeds_ = "127.0.0.1:" + std::to_string(ports_[0]) + ",127.0.0.1:" + std::to_string(ports_[1]);
  }
  void TearDown() override {
    nodes_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<hive_process> start_node(const std::string& id, uint16_t cluster_port,
                                           const std::string& secret = "s3cret",
                                           std::vector<std::string> more = {}) {
    std::vector<std::string> args{"--database.url=" + schema_->url(), "--cluster.enabled=true",
                                  "--cluster.node_id=" + id,
                                  "--cluster.port=" + std::to_string(cluster_port),
                                  "--cluster.seeds=" + seeds_, "--cluster.secret=" + secret,
                                  "--cluster.heartbeat_interval_ms=100",
                                  "--cluster.failure_timeout_ms=600"};
    args.insert(args.end(), more.begin(), more.end());
    return std::make_unique<hive_process>((dir_ / (id + ".log")).string(), std::move(args));
  }

  /// node id -> state, as node `on` lists them.
  std::map<std::string, std::string> members(hive_process& on) {
    http_client c{"127.0.0.1", on.port()};
    auto reply = c.request("GET", "/api/cluster/nodes");
    std::map<std::string, std::string> out;
    rapidjson::Document doc;
    doc.Parse(reply.body.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("nodes"))
      return out;
    for (const auto& n : doc["nodes"].GetArray())
      out[n["node_id"].GetString()] = n["state"].GetString();
    return out;
  }

  /// Starts n1..nN (N <= 3) and waits until each lists all of them online.
  void start_nodes(int count) {
    std::map<std::string, std::string> all_online;
    for (int i = 0; i < count; ++i) {
      auto id = "n" + std::to_string(i + 1);
      nodes_.push_back(start_node(id, ports_[static_cast<size_t>(i)]));
      ASSERT_TRUE(nodes_.back()->started()) << nodes_.back()->log();
      all_online[id] = "online";
    }
    for (auto& n : nodes_)
      ASSERT_TRUE(eventually([&] { return members(*n) == all_online; })) << n->log();
  }

  /// How many of `ids` node `on` reads back as completed.
  size_t completed(hive_process& on, const std::vector<std::string>& ids) {
    http_client c{"127.0.0.1", on.port()};
    size_t done = 0;
    for (const auto& id : ids) {
      auto r = c.request("GET", "/api/tasks/" + id);
      if (r.status == 200u && r.body.find("\"status\":\"completed\"") != std::string::npos)
        ++done;
    }
    return done;
  }

  /// The nodes that node `on` knows to have WebSocket clients.
  std::set<std::string> members_with_clients(hive_process& on) {
    http_client c{"127.0.0.1", on.port()};
    auto doc = parse(c.request("GET", "/api/cluster/nodes").body);
    std::set<std::string> out;
    if (doc.IsObject() && doc.HasMember("nodes"))
      for (const auto& m : doc["nodes"].GetArray())
        if (m["websocket_clients"].GetUint64() > 0)
          out.insert(m["node_id"].GetString());
    return out;
  }

  /// Waits until every node knows that `listener` has a WebSocket client (events are sent
  /// to a node only then; it reports its clients with each heartbeat).
  bool listened_everywhere(const std::string& listener) {
    return eventually([&] {
      for (auto& n : nodes_) {
        http_client c{"127.0.0.1", n->port()};
        auto doc = parse(c.request("GET", "/api/cluster/nodes").body);
        if (!doc.IsObject() || !doc.HasMember("nodes"))
          return false;
        bool seen = false;
        for (const auto& m : doc["nodes"].GetArray())
          seen = seen || (std::string{m["node_id"].GetString()} == listener
                          && m["websocket_clients"].GetUint64() > 0);
        if (!seen)
          return false;
      }
      return true;
    });
  }

  static rapidjson::Document parse(const std::string& body) {
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    return doc;
  }

  /// agent id -> (node_id, state) of every agent node `on` knows.
  std::map<std::string, std::pair<std::string, std::string>> agents(hive_process& on) {
    http_client c{"127.0.0.1", on.port()};
    auto doc = parse(c.request("GET", "/api/agents?limit=1000").body);
    std::map<std::string, std::pair<std::string, std::string>> out;
    if (!doc.IsArray())
      return out;
    for (const auto& a : doc.GetArray())
      out[a["id"].GetString()] = {a.HasMember("node_id") ? a["node_id"].GetString() : "",
                                  a["state"].GetString()};
    return out;
  }

  /// POSTs an agent to `on`; returns the created agent (or a null document).
  rapidjson::Document create_agent(hive_process& on, const std::string& body,
                                   unsigned expect = 201) {
    http_client c{"127.0.0.1", on.port()};
    auto r = c.request("POST", "/api/agents", body, json_);
    EXPECT_EQ(r.status, expect) << body << " -> " << r.body;
    return parse(r.body);
  }

  bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds within = 10s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred())
        return true;
      std::this_thread::sleep_for(50ms);
    }
    return pred();
  }

  std::unique_ptr<pg_schema> schema_;
  std::filesystem::path dir_;
  std::vector<uint16_t> ports_;
  std::string seeds_;
  std::vector<std::unique_ptr<hive_process>> nodes_;
  const http_client::header_list json_{{"Content-Type", "application/json"}};
};

TEST_F(Cluster, NodesJoinSeeEachOtherLoseOneAndWelcomeItBack) {
  start_nodes(3); // every node lists the three online
  const std::map<std::string, std::string> all_online{
    {"n1", "online"}, {"n2", "online"}, {"n3", "online"}};

  // SIGKILL n2: the others see it go offline (its connection drops, or its heartbeats stop).
  nodes_[1]->stop(SIGKILL);
  for (size_t i : {size_t{0}, size_t{2}})
    EXPECT_TRUE(eventually([&] { return members(*nodes_[i])["n2"] == "offline"; }))
      << nodes_[i]->log();

  // It comes back on the same port and joins again.
  nodes_[1] = start_node("n2", ports_[1]);
  ASSERT_TRUE(nodes_[1]->started()) << nodes_[1]->log();
  for (auto& n : nodes_)
    EXPECT_TRUE(eventually([&] { return members(*n) == all_online; })) << n->log();
}

TEST_F(Cluster, AgentsLiveOnOneNodeAndTasksRunOnAgentsOfOtherNodes) {
  start_nodes(3);
  // Placement: by node id from n1, and least_loaded (n1 has no agent yet, the others one).
  auto on2 = create_agent(*nodes_[0], R"({"name":"on-n2","placement":"n2","max_concurrency":8})");
  auto on3 = create_agent(
    *nodes_[0], R"({"name":"gpu-on-n3","placement":"n3","capabilities":[{"name":"gpu"}]})");
  auto least = create_agent(*nodes_[0], R"({"name":"least","placement":"least_loaded"})");
  ASSERT_TRUE(on2.IsObject() && on3.IsObject() && least.IsObject());
  EXPECT_STREQ(on2["node_id"].GetString(), "n2");
  EXPECT_STREQ(on3["node_id"].GetString(), "n3");
  EXPECT_STREQ(least["node_id"].GetString(), "n1");
  auto refused = create_agent(*nodes_[0], R"({"name":"x","placement":"n9"})", 422);
  EXPECT_STREQ(refused["error"]["field"].GetString(), "placement");
  std::string id2 = on2["id"].GetString(), id3 = on3["id"].GetString();

  // Every node knows every agent, and where it lives.
  for (auto& n : nodes_)
    EXPECT_TRUE(eventually([&] {
      auto all = agents(*n);
      return all.size() == 3 && all[id2].first == "n2" && all[id3].first == "n3";
    })) << n->log();

  // Submitted to n1, they run on n3's agent (the only one with the capability) and on n2's.
  http_client n1{"127.0.0.1", nodes_[0]->port()};
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto body = i % 2 == 0
                  ? std::string{R"({"type":"echo","payload":{"i":1},"required_capabilities":[{"name":"gpu"}]})"}
                  : std::string{R"({"type":"echo","payload":{"i":2}})"};
    auto r = n1.request("POST", "/api/tasks", body, json_);
    ASSERT_EQ(r.status, 201u) << r.body;
    ids.push_back(parse(r.body)["id"].GetString());
  }
  std::map<std::string, int> ran_on;
  ASSERT_TRUE(eventually([&] {
    ran_on.clear();
    for (size_t i = 0; i < ids.size(); ++i) {
      auto doc = parse(n1.request("GET", "/api/tasks/" + ids[i]).body);
      if (!doc.IsObject() || std::string{doc["status"].GetString()} != "completed")
        return false;
      ++ran_on[doc["agent_id"].GetString()];
      if (i % 2 == 0 && doc["agent_id"].GetString() != id3)
        return false;
    }
    return true;
  }, 20s)) << nodes_[0]->log() << nodes_[2]->log();
  EXPECT_EQ(ran_on[id3] >= 10, true);
  EXPECT_GT(ran_on[id2] + ran_on[id3], 10) << "some untargeted tasks ran on other nodes too";
  // The agent's own node counted the runs it did for n1.
  http_client n3{"127.0.0.1", nodes_[2]->port()};
  EXPECT_TRUE(eventually([&] {
    auto doc = parse(n3.request("GET", "/api/agents/" + id3).body);
    return doc.IsObject() && doc["tasks_completed"].GetUint64() >= 10;
  }));

  // An idempotency key holds across nodes: a client's retry reaching another node replays.
  auto first = n1.request("POST", "/api/tasks", R"({"type":"echo","payload":{"k":1}})",
                          {{"Content-Type", "application/json"}, {"Idempotency-Key", "order-7"}});
  ASSERT_EQ(first.status, 201u) << first.body;
  http_client n3k{"127.0.0.1", nodes_[2]->port()};
  auto again = n3k.request("POST", "/api/tasks", R"({"type":"echo","payload":{"k":1}})",
                           {{"Content-Type", "application/json"}, {"Idempotency-Key", "order-7"}});
  EXPECT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(parse(again.body)["id"].GetString(), std::string{parse(first.body)["id"].GetString()});

  // A task runs on the node that accepted it; any node cancels it.
  auto slow = n1.request("POST", "/api/tasks", R"({"type":"sleep","payload":{"ms":30000}})", json_);
  ASSERT_EQ(slow.status, 201u) << slow.body;
  std::string slow_id = parse(slow.body)["id"].GetString();
  http_client n2c{"127.0.0.1", nodes_[1]->port()};
  auto cancelled = n2c.request("POST", "/api/tasks/" + slow_id + "/cancel");
  EXPECT_EQ(cancelled.status, 200u) << cancelled.body;
  EXPECT_NE(cancelled.body.find("\"cancelled\""), std::string::npos) << cancelled.body;
  EXPECT_EQ(n2c.request("POST", "/api/tasks/" + slow_id + "/cancel").status, 409u)
    << "already cancelled";

  // Changes go to the agent's node, from any node.
  auto patched = n1.request("PATCH", "/api/agents/" + id2, R"({"name":"renamed"})", json_);
  EXPECT_EQ(patched.status, 200u) << patched.body;
  http_client n2{"127.0.0.1", nodes_[1]->port()};
  EXPECT_NE(n2.request("GET", "/api/agents/" + id2).body.find("renamed"), std::string::npos);
  EXPECT_EQ(n3.request("DELETE", "/api/agents/" + id2).status, 204u);
  for (auto& n : nodes_)
    EXPECT_TRUE(eventually([&] { return agents(*n).count(id2) == 0; })) << n->log();

  // Each node stops cleanly on SIGTERM, though the others held handles to its agents.
  for (auto& n : nodes_)
    EXPECT_EQ(n->stop(SIGTERM), 0) << n->log();
}

/// A neural.train task that keeps a blocking-pool thread busy for about three seconds (15,000
/// epochs of a 8-32-32-1 network over 64 random rows; FANN's own speed, whatever this build's
/// type).
std::string long_training(const std::string& model) {
  uint32_t x = 7;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return static_cast<double>((x >> 8) % 1000) / 1000.0;
  };
  std::string inputs, outputs;
  for (int row = 0; row < 64; ++row) {
    inputs += row == 0 ? "[" : ",[";
    for (int col = 0; col < 8; ++col)
      inputs += (col == 0 ? "" : ",") + std::to_string(next());
    inputs += "]";
    outputs += (row == 0 ? "[" : ",[") + std::to_string(next()) + "]";
  }
  return R"({"type":"neural.train","timeout_ms":60000,"required_capabilities":[{"name":"far"}],)"
         R"("payload":{"model":")" + model + R"(","hidden_layers":[32,32],"epochs":15000,)"
         R"("target_error":0,"dataset":{"inputs":[)" + inputs + R"(],"outputs":[)" + outputs
         + "]}}}";
}

TEST_F(Cluster, KillingANodeWhileTasksRunLosesNoneAndRunsNoneTwice) {
  start_nodes(3);
  for (size_t i = 0; i < 3; ++i)
    for (int k = 0; k < 2; ++k)
      create_agent(*nodes_[i], R"({"name":"w","max_concurrency":4})");
  // The only agent with capability "far" lives on n2: long trainings run on its blocking pool.
  create_agent(*nodes_[1], R"({"name":"far","capabilities":["far"],"max_concurrency":4})");
  for (auto& n : nodes_)
    ASSERT_TRUE(eventually([&] { return agents(*n).size() == 7; })) << n->log();

  // 2 trainings of about three seconds each, submitted to n1, run on n2's agent (one on each
  // of its two pool threads), submitted first, so they hold its slots, and still in flight
  // when n2 dies. n1 sees the agent's actor go with the connection and queues them again (no
  // timeout: theirs is a minute); they finish once n2's agent is back.
  std::vector<std::string> far;
  {
    http_client c{"127.0.0.1", nodes_[0]->port()};
    for (int i = 0; i < 2; ++i) {
      auto r = c.request("POST", "/api/tasks", long_training("far" + std::to_string(i)), json_);
      ASSERT_EQ(r.status, 201u) << r.body.substr(0, 300);
      far.push_back(parse(r.body)["id"].GetString());
    }
  }
  // 24 more slots in the hive, 90 sleeps through n1 and n2: n2 owns half of them and runs
  // some of n1's on its agents when it is killed.
  std::vector<std::string> acknowledged, owned_by_n2;
  for (size_t on : {size_t{0}, size_t{1}}) {
    http_client c{"127.0.0.1", nodes_[on]->port()};
    // n2's own tasks are long: they are still running or queued there when it dies.
    std::string body = on == 0 ? R"({"type":"sleep","payload":{"ms":400}})"
                               : R"({"type":"sleep","payload":{"ms":3000}})";
    for (int i = 0; i < 45; ++i) {
      auto r = c.request("POST", "/api/tasks", body, json_);
      ASSERT_EQ(r.status, 201u) << r.body;
      acknowledged.push_back(parse(r.body)["id"].GetString());
      if (on == 1)
        owned_by_n2.push_back(acknowledged.back());
    }
  }
  acknowledged.insert(acknowledged.end(), far.begin(), far.end());
  nodes_[1]->stop(SIGKILL);
  http_client n1{"127.0.0.1", nodes_[0]->port()};
  EXPECT_TRUE(eventually([&] {
    for (const auto& id : far)
      if (n1.request("GET", "/api/tasks/" + id + "/events").body.find("re-queued")
          != std::string::npos)
        return true;
    return false;
  }, 20s)) << "a training running on n2 was queued again on n1\n"
             << n1.request("GET", "/api/tasks/" + far.front() + "/events").body;

  // n2's agents are offline everywhere; it comes back and rejoins, and they are back.
  auto n2_agents = [&](hive_process& on, const std::string& state) {
    size_t k = 0;
    for (const auto& [id, where] : agents(on))
      if (where.first == "n2" && where.second == state)
        ++k;
    return k;
  };
  EXPECT_TRUE(eventually([&] { return n2_agents(*nodes_[0], "offline") == 3; }));
  // Once its lease expired, a survivor takes n2's unfinished tasks over (before n2 is back:
  // a node restarting within its lease runs its tasks itself).
  EXPECT_TRUE(eventually([&] {
    for (const auto& id : owned_by_n2)
      if (n1.request("GET", "/api/tasks/" + id + "/events").body.find("taken over from a lost node")
          != std::string::npos)
        return true;
    return false;
  }, 20s)) << nodes_[0]->log() << nodes_[2]->log();
  nodes_[1] = start_node("n2", ports_[1]);
  ASSERT_TRUE(nodes_[1]->started()) << nodes_[1]->log();

  // Every acknowledged task completes (the survivors take n2's over once its lease expires;
  // the trainings wait for n2's agent to be back).
  size_t done = 0;
  EXPECT_TRUE(eventually([&] {
    done = completed(*nodes_[0], acknowledged);
    return done == acknowledged.size();
  }, 60s)) << done << " of " << acknowledged.size() << " completed\n"
           << nodes_[0]->log() << nodes_[2]->log();

  // None ran to completion twice: each task's durable history has one completion.
  size_t taken_over = 0;
  for (const auto& id : acknowledged) {
    auto doc = parse(n1.request("GET", "/api/tasks/" + id + "/events").body);
    ASSERT_TRUE(doc.IsArray()) << id;
    int completions = 0;
    for (const auto& ev : doc.GetArray()) {
      if (std::string{ev["status"].GetString()} == "completed")
        ++completions;
      if (ev["detail"].IsString()
          && std::string{ev["detail"].GetString()}.find("lost node") != std::string::npos)
        ++taken_over;
    }
    EXPECT_EQ(completions, 1) << "task " << id;
  }
  EXPECT_GT(taken_over, 0u) << "some of n2's tasks were taken over by a survivor";
  EXPECT_TRUE(eventually([&] { return n2_agents(*nodes_[0], "idle") == 3; }))
    << nodes_[0]->log();
}

TEST_F(Cluster, ANodeThatStopsCleanlyLeavesItsQueuedTasksToTheOthers) {
  start_nodes(2);
  // The only agent is n1's, one task at a time; n2 accepts (owns) the tasks.
  create_agent(*nodes_[0], R"({"name":"single"})");
  ASSERT_TRUE(eventually([&] { return agents(*nodes_[1]).size() == 1; }));
  http_client n2{"127.0.0.1", nodes_[1]->port()};
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto r = n2.request("POST", "/api/tasks", R"({"type":"sleep","payload":{"ms":200}})", json_);
    ASSERT_EQ(r.status, 201u) << r.body;
    ids.push_back(parse(r.body)["id"].GetString());
  }
  EXPECT_EQ(nodes_[1]->stop(SIGTERM), 0) << nodes_[1]->log();
  EXPECT_TRUE(eventually([&] { return completed(*nodes_[0], ids) == ids.size(); }, 20s))
    << nodes_[0]->log();
  EXPECT_NE(nodes_[0]->log().find("unfinished tasks of lost nodes (n2)"), std::string::npos)
    << nodes_[0]->log();
}

TEST_F(Cluster, ALuaScriptUploadedToOneNodeServesTasksOnEveryNode) {
  start_nodes(2);
  http_client n1{"127.0.0.1", nodes_[0]->port()}, n2{"127.0.0.1", nodes_[1]->port()};
  auto uploaded = n1.request(
    "POST", "/api/scripts",
    R"js({"name":"shout","source":"hive.task_type('shout', function(task, ctx) return { text = string.upper(task.payload.text) } end)"})js",
    json_);
  if (uploaded.status == 404u)
    GTEST_SKIP() << "built without Lua";
  ASSERT_EQ(uploaded.status, 201u) << uploaded.body;
  create_agent(*nodes_[1], R"({"name":"w"})");
  // n2 reads the script again from the shared database once n1 tells it.
  std::string id;
  ASSERT_TRUE(eventually([&] {
    auto r = n2.request("POST", "/api/tasks", R"({"type":"shout","payload":{"text":"hi"}})", json_);
    if (r.status == 201u)
      id = parse(r.body)["id"].GetString();
    return r.status == 201u;
  })) << nodes_[1]->log();
  EXPECT_TRUE(eventually([&] { return completed(*nodes_[1], {id}) == 1; })) << nodes_[1]->log();
  EXPECT_NE(n2.request("GET", "/api/tasks/" + id).body.find("\"HI\""), std::string::npos);
  // Deleted on n1, it is gone on n2 too.
  EXPECT_EQ(n1.request("DELETE", "/api/scripts/shout").status, 204u);
  EXPECT_TRUE(eventually([&] { return n2.request("GET", "/api/scripts/shout").status == 404u; }));
}

TEST_F(Cluster, EventsReachWebSocketClientsOnEveryNode) {
  start_nodes(2);
  ws_client watcher{"127.0.0.1", nodes_[1]->port()};
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(watcher.send(R"({"action":"subscribe","data":{"event_types":["task_completed"]}})"));
  ASSERT_TRUE(listened_everywhere("n2")) << "n2 reports its WebSocket client";

  // The work happens on n1; the client listens on n2.
  http_client n1{"127.0.0.1", nodes_[0]->port()};
  const http_client::header_list json{{"Content-Type", "application/json"}};
  ASSERT_EQ(n1.request("POST", "/api/agents", R"({"name":"a1"})", json).status, 201u);
  auto posted = n1.request("POST", "/api/tasks", R"({"type":"echo","payload":{"x":1}})", json);
  ASSERT_EQ(posted.status, 201u) << posted.body;
  rapidjson::Document task;
  task.Parse(posted.body.c_str());
  std::string id = task["id"].GetString();
  bool seen = false;
  for (int i = 0; i < 50 && !seen; ++i) {
    auto msg = watcher.read(std::chrono::seconds(5));
    ASSERT_TRUE(msg) << "no event reached n2's client: " << nodes_[0]->log();
    rapidjson::Document ev;
    ev.Parse(msg->c_str());
    seen = ev.IsObject() && ev.HasMember("type") && std::string{ev["type"].GetString()} == "task_completed"
           && std::string{ev["data"]["task"]["id"].GetString()} == id;
  }
  EXPECT_TRUE(seen);
  // Any node answers for the task: they share the store.
  http_client n2{"127.0.0.1", nodes_[1]->port()};
  EXPECT_TRUE(eventually([&] {
    auto r = n2.request("GET", "/api/tasks/" + id);
    return r.status == 200u && r.body.find("\"completed\"") != std::string::npos;
  }));
}

/// The nginx configuration of docs/operations.md: least_conn over the nodes, WebSocket upgrade.
std::string nginx_conf(const std::filesystem::path& dir, uint16_t port,
                       const std::vector<uint16_t>& nodes) {
  std::string upstream;
  for (auto p : nodes)
    upstream += "    server 127.0.0.1:" + std::to_string(p) + ";\n";
  return "worker_processes 1;\ndaemon off;\npid " + (dir / "nginx.pid").string()
         + ";\nerror_log " + (dir / "nginx-error.log").string()
         + " warn;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n"
           "  client_body_temp_path " + (dir / "body").string() + ";\n  proxy_temp_path "
         + (dir / "proxy").string() + ";\n  upstream hive {\n    least_conn;\n" + upstream
         + "  }\n  map $http_upgrade $connection_upgrade {\n    default upgrade;\n"
           "    '' close;\n  }\n  server {\n    listen 127.0.0.1:" + std::to_string(port)
         + ";\n    location / {\n      proxy_pass http://hive;\n"
           "      proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n"
           "      proxy_set_header Connection $connection_upgrade;\n"
           "      proxy_set_header Host $host;\n      proxy_read_timeout 3600s;\n    }\n  }\n}\n";
}

TEST_F(Cluster, NginxInFrontSpreadsRequestsAndCarriesWebSockets) {
  if (::access("/usr/sbin/nginx", X_OK) != 0) {
    if (std::getenv("CI") != nullptr)
      FAIL() << "nginx is not installed (scripts/setup installs nginx-light)";
    GTEST_SKIP() << "nginx is not installed";
  }
  start_nodes(2);
  auto proxy_port = free_port();
  std::ofstream{dir_ / "nginx.conf"} << nginx_conf(dir_, proxy_port,
                                                   {nodes_[0]->port(), nodes_[1]->port()});
  std::string conf = (dir_ / "nginx.conf").string(), prefix = dir_.string();
  std::vector<std::string> args{"nginx", "-p", prefix, "-c", conf};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t nginx = -1;
  ASSERT_EQ(posix_spawn(&nginx, "/usr/sbin/nginx", nullptr, nullptr, argv.data(), environ), 0);
  struct reaper {
    pid_t pid;
    ~reaper() {
      ::kill(pid, SIGTERM);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
  } stop_nginx{nginx};

  // Requests through nginx reach both nodes (each answers with itself first).
  std::set<std::string> answered_by;
  ASSERT_TRUE(eventually([&] {
    http_client c{"127.0.0.1", proxy_port};
    auto r = c.request("GET", "/api/cluster/nodes");
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    if (r.status == 200u && doc.IsObject() && doc.HasMember("nodes") && !doc["nodes"].Empty())
      answered_by.insert(doc["nodes"][0]["node_id"].GetString());
    return answered_by.size() == 2;
  })) << "only " << answered_by.size() << " node(s) answered through nginx";

  // A WebSocket through nginx gets the hive's events.
  ws_client watcher{"127.0.0.1", proxy_port};
  ASSERT_TRUE(watcher.ok()) << "the upgrade went through nginx";
  ASSERT_TRUE(watcher.send(R"({"action":"subscribe","data":{"event_types":["agent_created"]}})"));
  // Whichever node nginx chose, the other one must know it has a client.
  ASSERT_TRUE(eventually([&] {
    auto a = members_with_clients(*nodes_[0]), b = members_with_clients(*nodes_[1]);
    return a == b && !a.empty();
  }));
  http_client n1{"127.0.0.1", nodes_[0]->port()};
  ASSERT_EQ(n1.request("POST", "/api/agents", R"({"name":"via-proxy"})",
                       {{"Content-Type", "application/json"}})
              .status,
            201u);
  bool seen = false;
  for (int i = 0; i < 20 && !seen; ++i) {
    auto msg = watcher.read(std::chrono::seconds(5));
    ASSERT_TRUE(msg) << "no event through nginx";
    seen = msg->find("\"agent_created\"") != std::string::npos
           && msg->find("via-proxy") != std::string::npos;
  }
  EXPECT_TRUE(seen);
}

TEST_F(Cluster, LinksCanUseTlsAndAPlainNodeCannotJoinThem) {
  // A self-signed certificate that is its own CA, as docs/operations.md shows.
  auto cert = (dir_ / "cert.pem").string(), key = (dir_ / "key.pem").string();
  auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=hive-cluster -keyout "
             + key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate";
  std::vector<std::string> tls{"--cluster.tls_certificate=" + cert, "--cluster.tls_key=" + key,
                               "--cluster.tls_ca_file=" + cert};
  nodes_.push_back(start_node("t1", ports_[0], "s3cret", tls));
  nodes_.push_back(start_node("t2", ports_[1], "s3cret", tls));
  for (auto& n : nodes_)
    ASSERT_TRUE(n->started()) << n->log();
  const std::map<std::string, std::string> both{{"t1", "online"}, {"t2", "online"}};
  for (auto& n : nodes_)
    EXPECT_TRUE(eventually([&] { return members(*n) == both; })) << n->log();
  EXPECT_NE(nodes_[0]->log().find("(TLS)"), std::string::npos);

  // A node without TLS cannot join them (the handshake fails, so it starts alone).
  auto plain = start_node("plain", ports_[2]);
  ASSERT_TRUE(plain->started()) << plain->log();
  EXPECT_TRUE(eventually([&] {
    return plain->log().find("no seed answered") != std::string::npos;
  })) << plain->log();
  // The TLS nodes go on together (a failed plain handshake may drop their link for a moment;
  // it reconnects by itself) and never list the plain node.
  for (auto& n : nodes_) {
    EXPECT_TRUE(eventually([&] { return members(*n) == both; })) << n->log();
    EXPECT_EQ(members(*n).count("plain"), 0u);
  }
}

TEST_F(Cluster, ANodeWithTheWrongSecretIsRefused) {
  nodes_.push_back(start_node("n1", ports_[0]));
  ASSERT_TRUE(nodes_.back()->started()) << nodes_.back()->log();
  hive_process intruder{(dir_ / "intruder.log").string(),
                        {"--database.url=" + schema_->url(), "--cluster.enabled=true",
                         "--cluster.node_id=intruder", "--cluster.port=" + std::to_string(ports_[2]),
                         "--cluster.seeds=127.0.0.1:" + std::to_string(ports_[0]),
                         "--cluster.secret=wrong"}};
  // Its HTTP port may open first; the refused join then stops it.
  EXPECT_TRUE(eventually([&] {
    return intruder.log().find("HIVE_CLUSTER__SECRET differs") != std::string::npos;
  })) << intruder.log();
  EXPECT_NE(intruder.stop(SIGTERM), 0) << "it exited with an error";
  EXPECT_EQ(members(*nodes_[0]).count("intruder"), 0u);
}

TEST_F(Cluster, ClusterModeWithoutPostgresqlIsRefusedAtStart) {
  hive_process lone{(dir_ / "lone.log").string(),
                    {"--database.url=sqlite://" + (dir_ / "h.db").string(),
                     "--cluster.enabled=true", "--cluster.node_id=lone",
                     "--cluster.secret=s3cret"}};
  EXPECT_FALSE(lone.started());
  EXPECT_NE(lone.log().find("cluster mode: the nodes share their state in PostgreSQL"),
            std::string::npos)
    << lone.log();
}

} // namespace
} // namespace hive::test
