// Lua scripts through a real server: /api/scripts, script task types, the sandbox.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/integration/support.hpp"

namespace hive::test {
namespace {

/// JSON string literal of a Lua source.
std::string quoted(const std::string& source) {
  std::string out = "\"";
  for (char ch : source) {
    if (ch == '"' || ch == '\\')
      out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out + "\"";
}

const std::string word_count = R"(
hive.task_type("word_count", function(task, ctx)
  local n = 0
  for _ in task.payload.text:gmatch("%S+") do n = n + 1 end
  ctx.log("counted " .. n)
  return { words = n, agent = ctx.agent_id, version = 1 }
end)
)";

/// An example script from examples/lua/.
std::string example(const std::string& file) {
  std::ifstream in{std::string{HIVE_SOURCE_DIR} + "/examples/lua/" + file};
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << file;
  return text.str();
}

class Scripting : public server_fixture {
protected:
  http_reply post_script(const std::string& name, const std::string& source) {
    return post("/api/scripts", R"({"name":")" + name + R"(","source":)" + quoted(source) + "}");
  }
  rapidjson::Document run(const std::string& type, const std::string& payload) {
    return wait_terminal(submit(R"({"type":")" + type + R"(","payload":)" + payload + "}"));
  }
};

TEST_F(Scripting, AScriptAddsATaskTypeThatAgentsRun) {
  start();
  auto agent = create_agent(R"({"name":"lua-runner"})");
  auto created = post_script("words", word_count);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_STREQ(parse_json(created.body)["task_types"][0].GetString(), "word_count");

  auto done = run("word_count", R"({"text":"three little words"})");
  ASSERT_EQ(str(done, "status"), "completed") << str(done, "error");
  EXPECT_EQ(done["result"]["words"].GetInt(), 3);
  EXPECT_EQ(str(done["result"], "agent"), agent);

  auto listed = parse_json(get("/api/scripts").body);
  ASSERT_EQ(listed["scripts"].Size(), 1u);
  EXPECT_EQ(str(listed["scripts"][0], "name"), "words");
  EXPECT_NE(str(parse_json(get("/api/scripts/words").body), "source").find("gmatch"),
            std::string::npos);
  // The status lists script types with the built-in ones.
  auto status = parse_json(get("/api/hive/status").body);
  const auto& types = status["task_types"];
  bool listed_type = false;
  for (const auto& t : types.GetArray())
    listed_type |= std::string{t.GetString()} == "word_count";
  EXPECT_TRUE(listed_type);
}

TEST_F(Scripting, ASyntaxErrorIsRefusedWithItsLine) {
  start();
  auto bad = post_script("broken", "hive.task_type(\"x\", function(task, ctx)\n  return {\nend)\n");
  ASSERT_EQ(bad.status, 422) << bad.body;
  auto doc = parse_json(bad.body);
  const auto& err = doc["error"];
  EXPECT_EQ(str(err, "field"), "source");
  EXPECT_EQ(str(err, "message").rfind("line 3: ", 0), 0u) << str(err, "message");
  EXPECT_EQ(get("/api/scripts/broken").status, 404) << "nothing is stored";
  EXPECT_EQ(post_script("nothing", "local x = 1").status, 422) << "a script must add a type";
  auto spin = post_script("spin", "local n = 0\nwhile true do n = n + 1 end");
  EXPECT_EQ(spin.status, 422);
  EXPECT_NE(str(parse_json(spin.body)["error"], "message").find("instruction budget"),
            std::string::npos) << spin.body;
  EXPECT_EQ(post_script("shadow", "hive.task_type('echo', function() return 1 end)").status, 422)
    << "built-in types cannot be redefined";
  ASSERT_EQ(post_script("first", "hive.task_type('shared.type', function() return 1 end)").status,
            201);
  auto clash = post_script("second", "hive.task_type('shared.type', function() return 2 end)");
  EXPECT_EQ(clash.status, 409) << "a type belongs to one script";
  EXPECT_NE(str(parse_json(clash.body)["error"], "message").find("script 'first'"),
            std::string::npos);
}

TEST_F(Scripting, NewVersionsServeNewTasksAndScriptsSurviveARestart) {
  start();
  create_agent(R"({"name":"lua-runner"})");
  ASSERT_EQ(post_script("words", word_count).status, 201);
  EXPECT_EQ(run("word_count", R"({"text":"a b"})")["result"]["version"].GetInt(), 1);
  auto v2 = word_count;
  v2.replace(v2.find("version = 1"), 11, "version = 2");
  ASSERT_EQ(post_script("words", v2).status, 200) << "replaced";
  EXPECT_EQ(run("word_count", R"({"text":"a b"})")["result"]["version"].GetInt(), 2);
  restart();
  auto after = run("word_count", R"({"text":"a b c d"})");
  ASSERT_EQ(str(after, "status"), "completed") << str(after, "error");
  EXPECT_EQ(after["result"]["words"].GetInt(), 4);
  EXPECT_EQ(after["result"]["version"].GetInt(), 2);
  EXPECT_EQ(del("/api/scripts/words").status, 204);
  EXPECT_EQ(post("/api/tasks", R"({"type":"word_count"})").status, 422) << "the type is gone";
}

TEST_F(Scripting, TheSandboxRefusesEscapesAndTheAgentKeepsServing) {
  overrides.push_back("scripting.max_memory_mb=16");
  overrides.push_back("scripting.max_instructions=5000000");
  start();
  create_agent(R"({"name":"lua-runner"})");
  const std::string probe = R"(
hive.task_type("probe", function(task, ctx)
  local f = load(task.payload.code)
  return { value = f(ctx) }
end)
)";
  ASSERT_EQ(post_script("probe", probe).status, 201);
  auto fails = [&](const std::string& code, const std::string& expect) {
    auto t = run("probe", R"({"code":)" + quoted(code) + "}");
    EXPECT_EQ(str(t, "status"), "failed") << code;
    EXPECT_NE(str(t, "error").find(expect), std::string::npos) << code << ": " << str(t, "error");
  };
  fails("return os.execute('true')", "global 'os'");
  fails("return io.open('/etc/passwd')", "global 'io'");
  fails("return require('os')", "global 'require'");
  fails("return debug.getinfo(1)", "global 'debug'");
  fails("return dofile('/etc/passwd')", "global 'dofile'");
  fails("return loadfile('/etc/passwd')", "global 'loadfile'");
  fails("return string.dump(print)", "field 'dump'");
  fails("local f, e = load('\\27Lua binary') assert(f, e)", "attempt to load a binary chunk");
  fails("while true do end", "instruction budget");
  fails("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1024) .. i end", "memory limit");
  fails("error('custom failure')", "custom failure");
  // A pcall around an endless loop does not swallow the stop.
  fails("while true do pcall(function() while true do end end) end", "instruction budget");
  // Yields that are not ctx requests fail the task (and nothing else).
  fails("coroutine.yield('hive.emit', {}, {})", "yielded outside");
  fails("coroutine.yield(42)", "yielded outside");
  // Hostile metatables on what the host reads are not consulted.
  auto hostile = run("probe", R"({"code":"local ctx = ... local o = setmetatable({}, {__index = function() error('boom') end}) local id = assert(ctx.submit('echo', {}, o)) return ctx.await(id).status"})");
  EXPECT_EQ(str(hostile, "status"), "completed") << str(hostile, "error");
  EXPECT_EQ(str(hostile["result"], "value"), "completed");
  // The error carries a Lua traceback.
  auto traced = run("probe", R"j({"code":"error('deep')"})j");
  EXPECT_NE(str(traced, "error").find("stack traceback"), std::string::npos);
  // The agent survived all of it.
  auto ok = run("probe", R"({"code":"return 6 * 7"})");
  ASSERT_EQ(str(ok, "status"), "completed") << str(ok, "error");
  EXPECT_EQ(ok["result"]["value"].GetInt(), 42);
}

TEST_F(Scripting, SubTasksRunWhileTheScriptWaitsIncludingFailuresAndTimeouts) {
  start();
  create_agent(R"({"name":"lua-runner","max_concurrency":8})");
  const std::string orchestrate = R"(
hive.task_type("orchestrate", function(task, ctx)
  local ok_id = assert(ctx.submit("echo", { n = 7 }))
  local bad = assert(ctx.submit("test.permanent", {}))
  local slow = assert(ctx.submit("sleep", { ms = 5000 }, { timeout_ms = 100 }))
  local none, why = ctx.submit("no.such.type", {})
  local a, b, c = ctx.await(ok_id), ctx.await(bad), ctx.await(slow)
  return { echoed = a.result.n, ok = a.status, bad = b.status, bad_error = b.error,
           slow = c.status, slow_error = c.error, refused = why }
end)
)";
  ASSERT_EQ(post_script("orchestrate", orchestrate).status, 201);
  auto done = run("orchestrate", "{}");
  ASSERT_EQ(str(done, "status"), "completed") << str(done, "error");
  const auto& r = done["result"];
  EXPECT_EQ(r["echoed"].GetInt(), 7);
  EXPECT_EQ(str(r, "ok"), "completed");
  EXPECT_EQ(str(r, "bad"), "failed");
  EXPECT_FALSE(str(r, "bad_error").empty());
  EXPECT_EQ(str(r, "slow"), "failed");
  EXPECT_NE(str(r, "slow_error").find("timed out"), std::string::npos) << str(r, "slow_error");
  EXPECT_NE(str(r, "refused").find("unknown task type 'no.such.type'"), std::string::npos);
}

TEST_F(Scripting, TheTextPipelineExampleAnalysesPartsInParallelAndMerges) {
  start();
  create_agent(R"({"name":"lua-runner","max_concurrency":8})");
  create_agent(R"({"name":"helper","max_concurrency":8})");
  ASSERT_EQ(post_script("text_pipeline", example("text_pipeline.lua")).status, 201);
  auto done = run("pipeline.analyze_document",
                  R"({"text":"The launch was a great success and customers love it.\n\n)"
                  R"(Support answered quickly; the team was excellent.\n\n)"
                  R"(One reviewer found the price too high."})");
  ASSERT_EQ(str(done, "status"), "completed") << str(done, "error");
  const auto& r = done["result"];
  EXPECT_EQ(r["parts"].GetInt(), 3);
  EXPECT_EQ(r["failed"].GetInt(), 0);
  EXPECT_EQ(str(r, "label"), "positive");
  EXPECT_GT(r["keywords"].Size(), 3u);
  // Three nlp.analyze sub-tasks ran.
  auto subs = parse_json(get("/api/tasks?type=nlp.analyze").body);
  EXPECT_EQ(subs.Size(), 3u);
}

TEST_F(Scripting, TheMapReduceExampleFansOutAndIn) {
  start();
  // One agent with one slot: the parent gives its slot back while it waits, so its own
  // agent runs the map tasks.
  create_agent(R"({"name":"lua-runner","max_concurrency":1})");
  ASSERT_EQ(post_script("map_reduce", example("map_reduce.lua")).status, 201);
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "the hive routes the task to the agent ";
  auto done = run("mapreduce.word_count", R"({"text":")" + text + R"(","chunks":6})");
  ASSERT_EQ(str(done, "status"), "completed") << str(done, "error");
  const auto& r = done["result"];
  EXPECT_EQ(r["total"].GetInt(), 40 * 8);
  EXPECT_EQ(r["chunks"].GetInt(), 6);
  EXPECT_EQ(str(r["top"][0], "word"), "the");
  EXPECT_EQ(r["top"][0]["count"].GetInt(), 40 * 3);
}

TEST_F(Scripting, TheWebhookExampleValidatesFormatsAndKeepsStateAcrossRestarts) {
  start();
  create_agent(R"({"name":"hooks","max_concurrency":4})");
  ASSERT_EQ(post_script("webhook", example("webhook.lua")).status, 201);
  const std::string good =
    R"({"event":"incident","service":"api-gw","severity":2,"message":"5xx above 2%","url":"https://status.example.com/1"})";
  auto first = run("webhook.format", good);
  ASSERT_EQ(str(first, "status"), "completed") << str(first, "error");
  EXPECT_TRUE(first["result"]["ok"].GetBool());
  EXPECT_EQ(str(first["result"]["body"], "title"), "[INCIDENT] api-gw (severity 2)");
  EXPECT_EQ(first["result"]["seen"].GetInt(), 1);
  EXPECT_EQ(run("webhook.format", good)["result"]["seen"].GetInt(), 2);

  auto bad = run("webhook.format", R"({"event":"party","service":"a b","severity":9,"message":""})");
  ASSERT_EQ(str(bad, "status"), "completed");
  EXPECT_FALSE(bad["result"]["ok"].GetBool());
  EXPECT_EQ(bad["result"]["errors"].Size(), 4u);

  restart(); // the agent's state is in the store
  EXPECT_EQ(run("webhook.format", good)["result"]["seen"].GetInt(), 3);
}

TEST_F(Scripting, ScriptsEmitEventsToWebSocketClientsAndAnalyseText) {
  start();
  create_agent(R"({"name":"lua-runner"})");
  ws_client watcher{"127.0.0.1", srv->port()};
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(watcher.send(
    R"({"action":"subscribe","data":{"event_types":["task_started","script_event"]}})"));
  const std::string source = R"(
hive.task_type("mood", function(task, ctx)
  local a = hive.analyze(task.payload.text)
  ctx.emit("mood.measured", { label = a.sentiment.label, words = a.token_count })
  return { label = a.sentiment.label }
end)
)";
  ASSERT_EQ(post_script("mood", source).status, 201);
  auto done = run("mood", R"({"text":"What a wonderful, delightful day."})");
  ASSERT_EQ(str(done, "status"), "completed") << str(done, "error");
  EXPECT_EQ(str(done["result"], "label"), "positive");
  ASSERT_TRUE(read_until(watcher, "task_started")) << "the other type subscribed to";
  auto ev = read_until(watcher, "script_event");
  ASSERT_TRUE(ev) << "no script_event on the WebSocket";
  const auto& data = (*ev)["data"];
  EXPECT_EQ(str(data, "name"), "mood.measured");
  EXPECT_EQ(str(data["data"], "label"), "positive");
  EXPECT_EQ(data["data"]["words"].GetInt(), 5);
  EXPECT_EQ(str(data, "task_id"), str(done, "id"));
}

TEST_F(Scripting, ADirectoryOfScriptsIsLoadedAndWatched) {
  auto scripts = dir / "lua";
  std::filesystem::create_directories(scripts);
  auto write = [&](const std::string& file, const std::string& text) {
    std::ofstream{scripts / file} << text;
  };
  write("greet.lua", R"(hive.task_type("greet", function(task) return { hello = "v1" } end))");
  write("broken.lua", "this is not lua");
  write("notes.txt", "ignored");
  overrides.push_back("scripting.dir=" + scripts.string());
  overrides.push_back("scripting.watch_interval_ms=50");
  start();
  create_agent(R"({"name":"lua-runner"})");
  EXPECT_EQ(str(run("greet", "{}")["result"], "hello"), "v1");
  EXPECT_EQ(get("/api/scripts/broken").status, 404) << "a broken file is logged, not loaded";

  // A changed file replaces the script (the size changes too, so a coarse clock still sees it).
  write("greet.lua", R"(hive.task_type("greet", function(task) return { hello = "v2, changed" } end))");
  EXPECT_TRUE(wait_until("/api/scripts/greet", [](const rapidjson::Document& d) {
    return d.IsObject() && str(d, "source").find("v2") != std::string::npos;
  }));
  EXPECT_EQ(str(run("greet", "{}")["result"], "hello"), "v2, changed");

  // A deleted file takes its script away.
  std::filesystem::remove(scripts / "greet.lua");
  EXPECT_TRUE(wait_until("/api/scripts", [](const rapidjson::Document& d) {
    return d.IsObject() && d["scripts"].Empty();
  }));
  EXPECT_EQ(post("/api/tasks", R"({"type":"greet"})").status, 422);
}

TEST_F(Scripting, AScriptAgentTakesOnlyItsScriptsTaskTypes) {
  start();
  ASSERT_EQ(post_script("greeter",
                        R"(hive.task_type("greet", function(task, ctx) return { by = ctx.agent_id } end))")
              .status,
            201);
  auto unknown = post("/api/agents", R"({"name":"x","type":"script","metadata":{"script":"nope"}})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(str(parse_json(unknown.body)["error"], "field"), "metadata.script");
  EXPECT_EQ(post("/api/agents", R"({"name":"x","type":"script"})").status, 422);

  auto agent = create_agent(R"({"name":"greeter-agent","type":"script","metadata":{"script":"greeter"}})");
  EXPECT_EQ(str(parse_json(get("/api/agents/" + agent).body), "type"), "script");
  auto greeted = run("greet", "{}");
  ASSERT_EQ(str(greeted, "status"), "completed") << str(greeted, "error");
  EXPECT_EQ(str(greeted["result"], "by"), agent);
  // An echo task is not its kind of work: it waits for another agent.
  auto echo = submit(R"({"type":"echo","payload":{}})");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(str(parse_json(get("/api/tasks/" + echo).body), "status"), "queued");
  auto worker = create_agent(R"({"name":"worker"})");
  auto echoed = wait_terminal(echo);
  EXPECT_EQ(str(echoed, "status"), "completed");
  EXPECT_EQ(str(echoed, "agent_id"), worker);
}

TEST_F(Scripting, ARunningTaskFinishesOnItsVersionWhileNewTasksGetTheNewOne) {
  start();
  create_agent(R"({"name":"lua-runner","max_concurrency":4})");
  auto version = [](int v) {
    auto n = std::to_string(v);
    return R"(hive.task_type("slow", function(task, ctx)
  ctx.run("sleep", { ms = 1500 })
  return { version = )" + n + R"( }
end)
hive.task_type("quick", function() return { version = )" + n + R"( } end))";
  };
  ASSERT_EQ(post_script("slow", version(1)).status, 201);
  auto first = submit(R"({"type":"slow","payload":{}})");
  // Wait until it is paused on its sub-task, then replace the script several times (more
  // versions than an agent keeps states for).
  ASSERT_TRUE(wait_until("/api/tasks?type=sleep", [](const rapidjson::Document& d) {
    return d.IsArray() && d.Size() == 1;
  }));
  for (int v = 2; v <= 10; ++v) {
    ASSERT_EQ(post_script("slow", version(v)).status, 200);
    // Each version runs a task on the same agent, which makes a state for it; past 8 the
    // agent drops the states of older versions, the paused one's included.
    EXPECT_EQ(run("quick", "{}")["result"]["version"].GetInt(), v);
  }
  auto old = wait_terminal(first);
  ASSERT_EQ(str(old, "status"), "completed") << str(old, "error");
  EXPECT_EQ(old["result"]["version"].GetInt(), 1) << "it finished on the version it started on";
  auto fresh = run("quick", "{}");
  ASSERT_EQ(str(fresh, "status"), "completed") << str(fresh, "error");
  EXPECT_EQ(fresh["result"]["version"].GetInt(), 10);
}

} // namespace
} // namespace hive::test
