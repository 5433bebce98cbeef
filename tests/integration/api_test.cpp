// The HTTP API end to end: a real server, a real socket, a real SQLite file.
#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "actors/engine.hpp"
#include "actors/event_bus.hpp"
#include "tests/integration/support.hpp"
#include "tests/support/ws_client.hpp"

using namespace hive::test;

class Api : public server_fixture {
protected:
  void SetUp() override {
    server_fixture::SetUp();
    start();
  }
};

TEST_F(Api, HealthAndReadyAnswer) {
  auto health = get("/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(str(parse_json(health.body), "status"), "ok");
  auto ready = get("/ready");
  EXPECT_EQ(ready.status, 200u) << ready.body;
}

TEST_F(Api, EchoTaskRunsOnAnAgentAndKeepsItsHistory) {
  auto agent = create_agent(R"({"name":"w1","type":"worker","capabilities":[{"name":"general","proficiency":0.7}]})");
  auto res = post("/api/tasks", R"({"type":"echo","description":"say hi","payload":{"greeting":"hi","n":3}})");
  ASSERT_EQ(res.status, 201u) << res.body;
  auto created = parse_json(res.body);
  auto id = str(created, "id");
  EXPECT_EQ(res.header("location"), "/api/tasks/" + id);
  EXPECT_EQ(str(created, "priority"), "medium");

  auto done = wait_terminal(id);
  EXPECT_EQ(str(done, "status"), "completed");
  EXPECT_EQ(str(done, "agent_id"), agent);
  ASSERT_TRUE(done["result"].IsObject());
  EXPECT_EQ(str(done["result"], "greeting"), "hi");
  EXPECT_EQ(done["attempts"].GetUint(), 1u);
  EXPECT_TRUE(done["finished_at"].IsString());

  auto events = parse_json(get("/api/tasks/" + id + "/events").body);
  ASSERT_TRUE(events.IsArray());
  std::vector<std::string> seen;
  for (auto& e : events.GetArray())
    seen.push_back(str(e, "status"));
  EXPECT_EQ(seen, (std::vector<std::string>{"queued", "running", "completed"}));

  // The agent's counters moved.
  EXPECT_TRUE(wait_until("/api/agents/" + agent, [](const rapidjson::Document& d) {
    return d["tasks_completed"].GetUint64() == 1 && str(d, "state") == "idle";
  }));
}

TEST_F(Api, PredecessorBodiesAreAccepted) {
  create_agent(R"({"name":"legacy","agent_type":"Worker","capabilities":["general"]})");
  auto res = post("/api/tasks", R"({"description":"Load test task","type":"test","priority":"low"})");
  ASSERT_EQ(res.status, 201u) << res.body;
  auto doc = parse_json(res.body);
  EXPECT_EQ(str(doc, "priority"), "low");
  EXPECT_EQ(str(wait_terminal(str(doc, "id")), "status"), "completed");
  auto numeric = post("/api/tasks", R"({"type":"echo","priority":3})");
  ASSERT_EQ(numeric.status, 201u);
  EXPECT_EQ(str(parse_json(numeric.body), "priority"), "critical");
}

TEST_F(Api, BadRequestsGetClearJsonErrors) {
  auto expect_error = [&](const http_reply& r, unsigned status, const std::string& code,
                          const std::string& field = "") {
    EXPECT_EQ(r.status, status) << r.body;
    auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("error")) << r.body;
    EXPECT_EQ(str(doc["error"], "code"), code) << r.body;
    EXPECT_FALSE(str(doc["error"], "message").empty());
    if (!field.empty()) {
      EXPECT_EQ(str(doc["error"], "field"), field) << r.body;
    }
  };
  expect_error(post("/api/tasks", "{not json"), 400, "malformed_json");
  expect_error(post("/api/tasks", R"({"type":"echo"})", {{"Content-Type", "text/plain"}}), 415,
               "unsupported_media_type");
  auto unknown = post("/api/tasks", R"({"type":"teleport"})");
  expect_error(unknown, 422, "unknown_task_type", "type");
  EXPECT_NE(unknown.body.find("nlp.analyze"), std::string::npos) << "lists the known types";
  expect_error(post("/api/tasks", R"({"type":"echo","priority":"urgent"})"), 422,
               "invalid_field", "priority");
  expect_error(post("/api/tasks", R"({"type":"echo","payload":[1,2]})"), 422, "invalid_field",
               "payload");
  expect_error(post("/api/tasks", R"({"type":"echo","depends_on":["nope"]})"), 422,
               "invalid_field", "depends_on[0]");
  expect_error(post("/api/tasks", R"({"type":"echo","depends_on":["0190a3c2-0000-7000-8000-000000000000"]})"),
               422, "invalid_field", "depends_on");
  expect_error(post("/api/agents", R"({"name":"x","capabilities":[{"name":"a","proficiency":1.5}]})"),
               422, "invalid_field", "capabilities[0].proficiency");
  expect_error(post("/api/agents", R"({"name":"x","type":"wizard"})"), 422, "invalid_field",
               "type");
  expect_error(get("/api/tasks/0190a3c2-0000-7000-8000-000000000000"), 404, "not_found");
  expect_error(get("/api/nothing"), 404, "not_found");
  auto wrong_method = client->request("PUT", "/api/tasks");
  expect_error(wrong_method, 405, "method_not_allowed");
  EXPECT_EQ(wrong_method.header("allow"), "GET, POST");
  expect_error(post("/api/tasks", R"({"type":"echo","description":")" + std::string(5000, 'x') + "\"}"),
               413, "payload_too_large");
  // The server is still fine afterwards.
  EXPECT_EQ(get("/health").status, 200u);
}

TEST_F(Api, IdempotencyKeyReturnsTheOriginalTask) {
  auto first = post("/api/tasks", R"({"type":"echo"})",
                    {{"Content-Type", "application/json"}, {"Idempotency-Key", "order-42"}});
  ASSERT_EQ(first.status, 201u);
  auto second = post("/api/tasks", R"({"type":"echo"})",
                     {{"Content-Type", "application/json"}, {"Idempotency-Key", "order-42"}});
  ASSERT_EQ(second.status, 200u) << second.body;
  EXPECT_EQ(second.header("idempotent-replayed"), "true");
  EXPECT_EQ(str(parse_json(first.body), "id"), str(parse_json(second.body), "id"));
  auto in_body = post("/api/tasks", R"({"type":"echo","idempotency_key":"order-42"})");
  EXPECT_EQ(str(parse_json(in_body.body), "id"), str(parse_json(first.body), "id"));
  auto list = parse_json(get("/api/tasks").body);
  EXPECT_EQ(list.Size(), 1u) << "never a second task for the same key";
}

TEST_F(Api, DependenciesRunInOrderAndFailuresPropagate) {
  create_agent(R"({"name":"w","max_concurrency":4})");
  auto a = submit(R"({"type":"sleep","payload":{"ms":150}})");
  auto b = submit(R"({"type":"echo","depends_on":[")" + a + R"("]})");
  auto bad = submit(R"({"type":"test.permanent"})");
  auto c = submit(R"({"type":"echo","depends_on":[")" + bad + R"("]})");
  auto done_b = wait_terminal(b);
  auto done_a = wait_terminal(a);
  EXPECT_EQ(str(done_b, "status"), "completed");
  EXPECT_GE(str(done_b, "started_at"), str(done_a, "finished_at"));
  auto done_c = wait_terminal(c);
  EXPECT_EQ(str(done_c, "status"), "failed");
  EXPECT_NE(str(done_c, "error").find(bad), std::string::npos) << str(done_c, "error");
}

TEST_F(Api, TimeoutsRetryWithBackoffThenDeadLetter) {
  create_agent(R"({"name":"w","max_concurrency":2})");
  auto id = submit(R"({"type":"sleep","payload":{"ms":5000},"timeout_ms":50,"max_retries":2})");
  auto done = wait_terminal(id);
  EXPECT_EQ(str(done, "status"), "dead");
  EXPECT_EQ(done["attempts"].GetUint(), 3u);
  EXPECT_NE(str(done, "error").find("timed out"), std::string::npos);
  auto events = parse_json(get("/api/tasks/" + id + "/events").body);
  int retries = 0;
  for (auto& e : events.GetArray())
    if (str(e, "detail").find("retrying in") != std::string::npos)
      ++retries;
  EXPECT_EQ(retries, 2);
}

TEST_F(Api, PermanentErrorsFailWithoutRetrying) {
  create_agent(R"({"name":"w"})");
  auto id = submit(R"({"type":"nlp.analyze","payload":{"text":42},"max_retries":5})");
  auto done = wait_terminal(id);
  EXPECT_EQ(str(done, "status"), "failed");
  EXPECT_EQ(done["attempts"].GetUint(), 1u);
  EXPECT_NE(str(done, "error").find("payload.text"), std::string::npos);
}

TEST_F(Api, NlpAnalyzeReturnsARealAnalysis) {
  create_agent(R"({"name":"nlp","capabilities":[{"name":"nlp.analyze","proficiency":0.9}]})");
  auto id = submit(R"({"type":"nlp.analyze","payload":{"text":"The database migration was a great success. Queries are much faster now. The team is very happy with the new indexes."}})");
  auto done = wait_terminal(id);
  ASSERT_EQ(str(done, "status"), "completed") << str(done, "error");
  const auto& r = done["result"];
  EXPECT_EQ(r["sentence_count"].GetUint(), 3u);
  EXPECT_GT(r["token_count"].GetUint(), 15u);
  EXPECT_EQ(str(r["sentiment"], "label"), "positive");
  ASSERT_TRUE(r["keywords"].IsArray());
  EXPECT_GT(r["keywords"].Size(), 0u);
  EXPECT_FALSE(str(r, "summary").empty());
}

TEST_F(Api, CancelAndRetry) {
  // No agent has "vision": the task waits in the queue.
  auto id = submit(R"({"type":"echo","required_capabilities":[{"name":"vision","min_proficiency":0.5}]})");
  EXPECT_TRUE(wait_until("/api/tasks/" + id, [](const rapidjson::Document& d) {
    return str(d, "status") == "queued";
  }));
  auto cancel = post("/api/tasks/" + id + "/cancel", "");
  ASSERT_EQ(cancel.status, 200u) << cancel.body;
  EXPECT_EQ(str(parse_json(cancel.body), "status"), "cancelled");
  auto again = post("/api/tasks/" + id + "/cancel", "");
  EXPECT_EQ(again.status, 409u) << again.body;

  create_agent(R"({"name":"eye","capabilities":[{"name":"vision","proficiency":0.8}]})");
  auto retry = post("/api/tasks/" + id + "/retry", "");
  ASSERT_EQ(retry.status, 202u) << retry.body;
  EXPECT_EQ(str(wait_terminal(id), "status"), "completed");
  EXPECT_EQ(post("/api/tasks/" + id + "/retry", "").status, 409u) << "completed is final";
}

TEST_F(Api, RoutingPicksACapableAgent) {
  auto weak = create_agent(R"({"name":"weak","capabilities":[{"name":"nlp","proficiency":0.2}],"max_concurrency":8})");
  auto strong = create_agent(R"({"name":"strong","capabilities":[{"name":"nlp","proficiency":0.9}],"max_concurrency":8})");
  for (int i = 0; i < 5; ++i) {
    auto id = submit(R"({"type":"echo","required_capabilities":[{"name":"nlp","min_proficiency":0.5}]})");
    EXPECT_EQ(str(wait_terminal(id), "agent_id"), strong);
  }
  // Without a minimum both qualify; the more proficient one scores higher while both are free.
  auto id = submit(R"({"type":"echo","required_capabilities":["nlp"]})");
  EXPECT_EQ(str(wait_terminal(id), "agent_id"), strong);
  (void) weak;
}

TEST_F(Api, HigherPriorityRunsFirst) {
  create_agent(R"({"name":"solo","max_concurrency":1})");
  auto blocker = submit(R"({"type":"sleep","payload":{"ms":300}})");
  EXPECT_TRUE(wait_until("/api/tasks/" + blocker, [](const rapidjson::Document& d) {
    return str(d, "status") == "running";
  }));
  auto low = submit(R"({"type":"echo","priority":"low"})");
  auto medium = submit(R"({"type":"echo","priority":"medium"})");
  auto critical = submit(R"({"type":"echo","priority":"critical"})");
  auto high = submit(R"({"type":"echo","priority":"high"})");
  auto t_low = str(wait_terminal(low), "started_at");
  auto t_medium = str(wait_terminal(medium), "started_at");
  auto t_high = str(wait_terminal(high), "started_at");
  auto t_critical = str(wait_terminal(critical), "started_at");
  EXPECT_LE(t_critical, t_high);
  EXPECT_LE(t_high, t_medium);
  EXPECT_LE(t_medium, t_low);
}

TEST_F(Api, CrashedAgentIsRestartedAndItsTaskRetried) {
  auto agent = create_agent(R"({"name":"fragile"})");
  auto id = submit(R"({"type":"test.crash","max_retries":1})");
  auto done = wait_terminal(id);
  EXPECT_EQ(str(done, "status"), "completed") << str(done, "error");
  EXPECT_EQ(done["attempts"].GetUint(), 2u);
  auto status = parse_json(get("/api/hive/status").body);
  EXPECT_EQ(status["agents"]["restarts"].GetUint64(), 1u);
  // The restarted agent keeps serving.
  EXPECT_EQ(str(wait_terminal(submit(R"({"type":"echo"})")), "agent_id"), agent);
}

TEST_F(Api, BatchSubmissionIsAllOrNothing) {
  auto ok = post("/api/tasks/batch", R"({"tasks":[{"type":"echo"},{"type":"echo","priority":"high"},{"type":"sleep","payload":{"ms":1}}]})");
  ASSERT_EQ(ok.status, 201u) << ok.body;
  EXPECT_EQ(parse_json(ok.body).Size(), 3u);
  auto bad = post("/api/tasks/batch", R"([{"type":"echo"},{"type":"nope"}])");
  EXPECT_EQ(bad.status, 422u);
  EXPECT_EQ(str(parse_json(bad.body)["error"], "field"), "tasks[1].type");
  EXPECT_EQ(parse_json(get("/api/tasks").body).Size(), 3u);
}

TEST_F(Api, ListsFilterAndPage) {
  for (int i = 0; i < 5; ++i)
    submit(R"({"type":"echo"})");
  submit(R"({"type":"sleep","payload":{"ms":1}})");
  std::vector<std::string> ids;
  std::string target = "/api/tasks?limit=2";
  for (int page = 0; page < 10 && !target.empty(); ++page) {
    auto res = get(target);
    ASSERT_EQ(res.status, 200u);
    auto doc = parse_json(res.body);
    for (auto& t : doc.GetArray())
      ids.push_back(str(t, "id"));
    auto cursor = res.header("x-next-cursor");
    target = cursor.empty() ? "" : "/api/tasks?limit=2&after=" + cursor;
  }
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  auto sleeps = parse_json(get("/api/tasks?type=sleep").body);
  EXPECT_EQ(sleeps.Size(), 1u);
  auto queued = parse_json(get("/api/tasks?status=queued").body);
  EXPECT_EQ(queued.Size(), 6u);
  EXPECT_EQ(get("/api/tasks?status=bogus").status, 422u);
  EXPECT_EQ(get("/api/tasks?limit=0").status, 422u);
}

TEST_F(Api, AgentsCanBePausedResumedAndDeleted) {
  auto id = create_agent(R"({"name":"a","type":"specialist","capabilities":[{"name":"x","proficiency":0.4}]})");
  create_agent(R"({"name":"b","type":"learner"})");
  auto paused = patch("/api/agents/" + id, R"({"state":"paused"})");
  ASSERT_EQ(paused.status, 200u) << paused.body;
  EXPECT_EQ(str(parse_json(paused.body), "state"), "paused");
  // A paused agent gets no work.
  auto task = submit(R"({"type":"echo","required_capabilities":["x"]})");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(str(parse_json(get("/api/tasks/" + task).body), "status"), "queued");
  EXPECT_EQ(patch("/api/agents/" + id, R"({"state":"idle"})").status, 200u);
  EXPECT_EQ(str(wait_terminal(task), "status"), "completed");

  auto specialists = parse_json(get("/api/agents?type=specialist").body);
  EXPECT_EQ(specialists.Size(), 1u);
  auto with_x = parse_json(get("/api/agents?capability=x").body);
  EXPECT_EQ(with_x.Size(), 1u);
  EXPECT_EQ(patch("/api/agents/" + id, R"({"state":"working"})").status, 422u);
  EXPECT_EQ(del("/api/agents/" + id).status, 204u);
  EXPECT_EQ(get("/api/agents/" + id).status, 404u);
  EXPECT_EQ(parse_json(get("/api/agents").body).Size(), 1u);
}

TEST_F(Api, StatusReportsAgentsTasksAndQueue) {
  create_agent(R"({"name":"a"})");
  submit(R"({"type":"echo","priority":"high","required_capabilities":["missing"]})");
  auto id = submit(R"({"type":"echo"})");
  wait_terminal(id);
  auto status = parse_json(get("/api/hive/status").body);
  EXPECT_EQ(status["agents"]["total"].GetUint64(), 1u);
  EXPECT_EQ(status["tasks"]["by_status"]["completed"].GetUint64(), 1u);
  EXPECT_EQ(status["tasks"]["by_status"]["queued"].GetUint64(), 1u);
  EXPECT_EQ(status["queue"]["depth_by_priority"]["high"].GetUint64(), 1u);
  EXPECT_EQ(str(status, "store"), "sqlite");
  EXPECT_GE(status["uptime_secs"].GetDouble(), 0.0);
}

class ApiSmallQueue : public server_fixture {
protected:
  void SetUp() override {
    server_fixture::SetUp();
    overrides = {"tasks.queue_max=3"};
    start();
  }
};

TEST_F(ApiSmallQueue, FullQueueAnswers503WithRetryAfter) {
  for (int i = 0; i < 3; ++i)
    submit(R"({"type":"echo"})");
  auto full = post("/api/tasks", R"({"type":"echo"})");
  EXPECT_EQ(full.status, 503u);
  EXPECT_EQ(full.header("retry-after"), "1");
  EXPECT_EQ(str(parse_json(full.body)["error"], "code"), "queue_full");
  // Once an agent drains the queue, submissions are accepted again.
  create_agent(R"({"name":"drain","max_concurrency":3})");
  EXPECT_TRUE(wait_until("/api/hive/status", [](const rapidjson::Document& d) {
    return d["tasks"]["by_status"]["completed"].GetUint64() == 3;
  }));
  EXPECT_EQ(post("/api/tasks", R"({"type":"echo"})").status, 201u);
}

TEST_F(Api, StateSurvivesARestart) {
  auto agent = create_agent(R"({"name":"keeper","capabilities":[{"name":"late","proficiency":0.5}]})");
  auto done = submit(R"({"type":"echo","payload":{"v":1}})");
  wait_terminal(done);
  // Waits for a capability nobody has yet.
  auto waiting = submit(R"({"type":"echo","required_capabilities":[{"name":"late","min_proficiency":0.9}]})");
  restart();
  auto rec = parse_json(get("/api/agents/" + agent).body);
  EXPECT_EQ(str(rec, "name"), "keeper");
  EXPECT_EQ(str(parse_json(get("/api/tasks/" + done).body), "status"), "completed");
  EXPECT_EQ(str(parse_json(get("/api/tasks/" + waiting).body), "status"), "queued");
  EXPECT_EQ(patch("/api/agents/" + agent, R"({"capabilities":[{"name":"late","proficiency":0.95}]})").status, 200u);
  EXPECT_EQ(str(wait_terminal(waiting), "status"), "completed");
}

TEST_F(Api, UnroutableTasksDoNotBlockOthers) {
  // Hundreds of tasks nobody can run sit ahead of a task that an idle agent can run.
  for (int b = 0; b < 10; ++b) {
    std::string batch = R"({"tasks":[)";
    for (int i = 0; i < 40; ++i)
      batch += std::string{i ? "," : ""}
               + R"({"type":"echo","priority":"critical","required_capabilities":["gpu"]})";
    batch += "]}";
    ASSERT_EQ(post("/api/tasks/batch", batch).status, 201u);
  }
  create_agent(R"({"name":"cpu-only"})");
  auto id = submit(R"({"type":"echo","priority":"low"})");
  EXPECT_EQ(str(wait_terminal(id, std::chrono::seconds(5)), "status"), "completed");
}

TEST_F(Api, DeletingABusyAgentRequeuesItsTaskElsewhere) {
  auto first = create_agent(R"({"name":"first","capabilities":[{"name":"x","proficiency":0.9}]})");
  auto id = submit(R"({"type":"test.block","payload":{"ms":400},"required_capabilities":["x"]})");
  EXPECT_TRUE(wait_until("/api/tasks/" + id, [](const rapidjson::Document& d) {
    return str(d, "status") == "running";
  }));
  auto second = create_agent(R"({"name":"second","capabilities":[{"name":"x","proficiency":0.5}]})");
  EXPECT_EQ(del("/api/agents/" + first).status, 204u);
  auto done = wait_terminal(id);
  EXPECT_EQ(str(done, "status"), "completed") << "max_retries 0, yet the lost agent costs no retry";
  EXPECT_EQ(str(done, "agent_id"), second);
}

TEST_F(Api, CancellingARunningTaskFreesItsAgentAtOnce) {
  auto agent = create_agent(R"({"name":"solo","max_concurrency":1})");
  auto slow = submit(R"({"type":"sleep","payload":{"ms":60000}})");
  EXPECT_TRUE(wait_until("/api/tasks/" + slow, [](const rapidjson::Document& d) {
    return str(d, "status") == "running";
  }));
  EXPECT_EQ(post("/api/tasks/" + slow + "/cancel", "").status, 200u);
  auto next = submit(R"({"type":"echo"})");
  auto done = wait_terminal(next, std::chrono::seconds(3));
  EXPECT_EQ(str(done, "status"), "completed");
  EXPECT_EQ(str(parse_json(get("/api/tasks/" + slow).body), "status"), "cancelled");
  (void) agent;
}

TEST_F(Api, AnAgentThatKeepsCrashingIsMarkedFailedAndCanBeRevived) {
  auto agent = create_agent(R"({"name":"doomed"})");
  // The task crashes every agent that runs it: the agent is restarted twice, then marked failed.
  auto bomb = submit(R"({"type":"test.crash_always"})");
  EXPECT_TRUE(wait_until("/api/agents/" + agent, [](const rapidjson::Document& d) {
    return str(d, "state") == "failed";
  }));
  auto status = parse_json(get("/api/hive/status").body);
  EXPECT_EQ(status["agents"]["restarts"].GetUint64(), 2u);
  // A failed agent gets no work until it is revived.
  auto echo = submit(R"({"type":"echo"})");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(str(parse_json(get("/api/tasks/" + echo).body), "status"), "queued");
  ASSERT_EQ(patch("/api/agents/" + agent, R"({"state":"idle"})").status, 200u);
  // The bomb has used up its free re-runs and fails for good; the echo runs.
  auto done = wait_terminal(bomb);
  EXPECT_EQ(str(done, "status"), "failed");
  EXPECT_NE(str(done, "error").find("while running the task"), std::string::npos)
    << str(done, "error");
  EXPECT_EQ(str(wait_terminal(echo), "status"), "completed");
}

class ApiFewActors : public server_fixture {
protected:
  void SetUp() override {
    server_fixture::SetUp();
    overrides = {"performance.async_tasks_max=2"};
    start();
  }
};

TEST_F(ApiFewActors, TasksBeyondTheActorBoundWaitAndStillRunInPriorityOrder) {
  auto agent = create_agent(R"({"name":"solo","max_concurrency":1})");
  auto blocker = submit(R"({"type":"sleep","payload":{"ms":300}})");
  EXPECT_TRUE(wait_until("/api/tasks/" + blocker, [](const rapidjson::Document& d) {
    return str(d, "status") == "running";
  }));
  std::vector<std::string> lows;
  for (int i = 0; i < 4; ++i)
    lows.push_back(submit(R"({"type":"echo","priority":"low"})"));
  auto critical = submit(R"({"type":"echo","priority":"critical"})");
  auto status = parse_json(get("/api/hive/status").body);
  EXPECT_LE(status["tasks"]["live_actors"].GetUint64(), 2u);
  auto t_critical = str(wait_terminal(critical), "started_at");
  for (auto& id : lows) {
    auto done = wait_terminal(id);
    EXPECT_EQ(str(done, "status"), "completed");
    EXPECT_LE(t_critical, str(done, "started_at"));
  }
  (void) agent;
}

TEST_F(Api, NextPageLinkKeepsTheFilters) {
  for (int i = 0; i < 3; ++i)
    submit(R"({"type":"sleep","payload":{"ms":1}})");
  submit(R"({"type":"echo"})");
  auto first = get("/api/tasks?type=sleep&limit=2");
  ASSERT_EQ(first.status, 200u);
  auto link = first.header("link");
  ASSERT_NE(link.find("type=sleep"), std::string::npos) << link;
  auto target = link.substr(1, link.find('>') - 1);
  auto second = parse_json(get(target).body);
  ASSERT_TRUE(second.IsArray());
  ASSERT_EQ(second.Size(), 1u) << "the third sleep task, and not the echo task";
  EXPECT_EQ(str(second[0], "type"), "sleep");
}

TEST_F(Api, AKeyRepeatedInOneBatchMakesOneTask) {
  auto res = post("/api/tasks/batch",
                  R"({"tasks":[{"type":"echo","idempotency_key":"same"},{"type":"echo","idempotency_key":"same"},{"type":"echo"}]})");
  ASSERT_EQ(res.status, 201u) << res.body;
  auto doc = parse_json(res.body);
  ASSERT_EQ(doc.Size(), 3u);
  EXPECT_EQ(str(doc[0], "id"), str(doc[1], "id"));
  EXPECT_NE(str(doc[0], "id"), str(doc[2], "id"));
  EXPECT_EQ(parse_json(get("/api/tasks").body).Size(), 2u);
}

TEST_F(Api, ADependencyThatFinishedEarlierIsLookedUpInTheStore) {
  create_agent(R"({"name":"w"})");
  auto done = submit(R"({"type":"echo"})");
  EXPECT_EQ(str(wait_terminal(done), "status"), "completed");
  auto failed = submit(R"({"type":"test.permanent"})");
  EXPECT_EQ(str(wait_terminal(failed), "status"), "failed");
  auto after_done = submit(R"({"type":"echo","depends_on":[")" + done + R"("]})");
  auto after_failed = submit(R"({"type":"echo","depends_on":[")" + failed + R"("]})");
  EXPECT_EQ(str(wait_terminal(after_done), "status"), "completed");
  EXPECT_EQ(str(wait_terminal(after_failed), "status"), "failed");
}

TEST_F(Api, EveryChangeIsPublishedOnTheEventBusInOrder) {
  std::mutex mtx;
  std::vector<std::pair<std::string, std::string>> seen; // (event, task or agent id)
  auto token = srv->engine().events().subscribe([&](const hive::actors::hive_event& e) {
    std::lock_guard<std::mutex> guard{mtx};
    auto id = e.task ? e.task->id : e.agent_id;
    seen.emplace_back(std::string{to_string(e.type)}, id);
  });
  auto agent = create_agent(R"({"name":"w"})");
  auto id = submit(R"({"type":"echo"})");
  wait_terminal(id);
  auto failing = submit(R"({"type":"test.fail","max_retries":1})");
  wait_terminal(failing);
  EXPECT_EQ(del("/api/agents/" + agent).status, 204u);
  srv->engine().events().unsubscribe(token);

  std::lock_guard<std::mutex> guard{mtx};
  auto of = [&](const std::string& who) {
    std::vector<std::string> out;
    for (auto& [ev, x] : seen)
      if (x == who)
        out.push_back(ev);
    return out;
  };
  EXPECT_EQ(of(id), (std::vector<std::string>{"task_created", "task_assigned", "task_started",
                                              "task_completed"}));
  EXPECT_EQ(of(failing),
            (std::vector<std::string>{"task_created", "task_assigned", "task_started",
                                      "task_retrying", "task_assigned", "task_started",
                                      "task_dead"}));
  auto agent_events = of(agent);
  ASSERT_FALSE(agent_events.empty());
  EXPECT_EQ(agent_events.front(), "agent_created");
  EXPECT_EQ(agent_events.back(), "agent_removed");
  EXPECT_NE(std::find(agent_events.begin(), agent_events.end(), "agent_updated"),
            agent_events.end()) << "idle -> working -> idle";
}

TEST_F(Api, SimTasksFollowTheRunningAgentsMetadata) {
  auto agent = create_agent(
    R"({"name":"sim","metadata":{"sim":{"skill":{"good":1.0,"bad":0.0},"default_latency_ms":1}}})");
  auto good = submit(R"({"type":"sim","payload":{"kind":"good"},"max_retries":0})");
  auto bad = submit(R"({"type":"sim","payload":{"kind":"bad"},"max_retries":0})");
  EXPECT_EQ(str(wait_terminal(good), "status"), "completed");
  auto failed = wait_terminal(bad);
  EXPECT_EQ(str(failed, "status"), "failed");
  EXPECT_NE(str(failed, "error").find("simulated failure"), std::string::npos);
  // New metadata reaches the next run.
  auto res = patch("/api/agents/" + agent,
                   R"({"metadata":{"sim":{"skill":{"bad":1.0},"default_latency_ms":1}}})");
  ASSERT_EQ(res.status, 200u) << res.body;
  auto again = submit(R"({"type":"sim","payload":{"kind":"bad"},"max_retries":0})");
  EXPECT_EQ(str(wait_terminal(again), "status"), "completed");
}

class LearnedRouting : public server_fixture {
protected:
  void SetUp() override {
    server_fixture::SetUp();
    overrides.push_back("neural.mode=fann");
    overrides.push_back("neural.retrain_every=32");
    overrides.push_back("neural.min_training_gap_ms=0");
    start();
  }
};

TEST_F(LearnedRouting, WorkMovesToTheAgentThatSucceeds) {
  EXPECT_EQ(str(parse_json(get("/api/hive/status").body), "routing"), "learned (FANN, CPU)");
  ws_client watcher{"127.0.0.1", srv->port()};
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(watcher.send(
    R"({"action":"subscribe","data":{"event_types":["learning_cycle_completed"]}})"));
  // Both declare the same proficiency; only their (hidden) results differ.
  auto good = create_agent(
    R"({"name":"good","max_concurrency":16,"capabilities":[{"name":"x","proficiency":0.5}],"metadata":{"sim":{"default_skill":0.95,"default_latency_ms":1}}})");
  auto poor = create_agent(
    R"({"name":"poor","max_concurrency":16,"capabilities":[{"name":"x","proficiency":0.5}],"metadata":{"sim":{"default_skill":0.05,"default_latency_ms":1}}})");
  int last_good = 0;
  for (int round = 0; round < 30; ++round) {
    std::vector<std::string> ids;
    for (int i = 0; i < 8; ++i)
      ids.push_back(submit(
        R"({"type":"sim","payload":{"kind":"x"},"max_retries":0,"required_capabilities":[{"name":"x"}]})"));
    for (const auto& id : ids) {
      auto done = wait_terminal(id);
      if (round >= 20 && str(done, "agent_id") == good)
        ++last_good;
    }
  }
  EXPECT_GE(last_good, 60) << "of the last 80 tasks, most went to the agent that succeeds";
  // Training runs were reported on the WebSocket and counted in /metrics.
  bool reported = false;
  for (int i = 0; i < 20 && !reported; ++i) {
    auto msg = watcher.read(std::chrono::seconds(5));
    ASSERT_TRUE(msg) << "no learning_cycle_completed event";
    auto doc = parse_json(*msg);
    if (str(doc, "type") == "learning_cycle_completed") {
      EXPECT_GT(doc["data"]["learning"]["rows"].GetUint64(), 0u);
      reported = true;
    }
  }
  EXPECT_TRUE(reported);
  EXPECT_NE(get("/metrics").body.find(R"(hive_learning_cycles_total{adopted="true"})"),
            std::string::npos);

  // Outcomes moved the declared proficiencies apart.
  auto proficiency = [&](const std::string& id) {
    return parse_json(get("/api/agents/" + id).body)["capabilities"][0]["proficiency"].GetDouble();
  };
  auto learned_good = proficiency(good);
  EXPECT_GT(learned_good, 0.75) << "0.5 declared, 95% of its tasks succeed";
  EXPECT_LT(proficiency(poor), 0.5) << "0.5 declared, 5% of its tasks succeed";

  // The network is kept in the store, listed with Hive's models, and loaded again at start.
  auto model = parse_json(get("/api/models/hive.routing").body);
  EXPECT_EQ(str(model["info"], "purpose"), "routing");
  auto saved_at = str(model, "updated_at");
  restart();
  EXPECT_EQ(str(parse_json(get("/api/models/hive.routing").body), "updated_at"), saved_at);
  EXPECT_EQ(proficiency(good), learned_good) << "learned proficiencies are stored with the agent";
}

