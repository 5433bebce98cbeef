// Lua scripts through a real server: /api/scripts, script task types, the sandbox.
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
  EXPECT_EQ(post_script("shadow", "hive.task_type('echo', function() return 1 end)").status, 422)
    << "built-in types cannot be redefined";
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
  return { value = f() }
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
  // The error carries a Lua traceback.
  auto traced = run("probe", R"j({"code":"error('deep')"})j");
  EXPECT_NE(str(traced, "error").find("stack traceback"), std::string::npos);
  // The agent survived all of it.
  auto ok = run("probe", R"({"code":"return 6 * 7"})");
  ASSERT_EQ(str(ok, "status"), "completed") << str(ok, "error");
  EXPECT_EQ(ok["result"]["value"].GetInt(), 42);
}

} // namespace
} // namespace hive::test
