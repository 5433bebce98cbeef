// The sim executor: outcomes follow the agent's hidden skill, runs are reproducible, latency
// comes from the metadata, and bad payloads fail for good.
#include "actors/executors/sim.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

using namespace hive;
using namespace hive::actors;

namespace {

task_record sim_task(int n, const std::string& kind, uint32_t attempts = 1) {
  task_record t;
  t.id = "task-" + std::to_string(n);
  t.type = "sim";
  t.payload_json = R"({"kind":")" + kind + R"("})";
  t.attempts = attempts;
  return t;
}

const execution_context skilled{
  "agent-1", R"({"sim":{"skill":{"translate":0.9,"summarise":0.2},"default_skill":0.5,)"
             R"("latency_ms":{"translate":40},"default_latency_ms":7}})"};

} // namespace

TEST(SimExecutor, SuccessRateFollowsTheHiddenSkill) {
  auto sim = make_sim_executor();
  int ok_translate = 0, ok_summarise = 0, ok_other = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    ok_translate += sim->run(sim_task(i, "translate"), skilled).ok ? 1 : 0;
    ok_summarise += sim->run(sim_task(i, "summarise"), skilled).ok ? 1 : 0;
    ok_other += sim->run(sim_task(i, "classify"), skilled).ok ? 1 : 0;
  }
  EXPECT_NEAR(ok_translate / double(n), 0.9, 0.03);
  EXPECT_NEAR(ok_summarise / double(n), 0.2, 0.03);
  EXPECT_NEAR(ok_other / double(n), 0.5, 0.03) << "default_skill";
}

TEST(SimExecutor, SameRunSameOutcomeOtherAttemptOrAgentMayDiffer) {
  auto sim = make_sim_executor();
  int differs_by_attempt = 0, differs_by_agent = 0;
  execution_context other = skilled;
  other.agent_id = "agent-2";
  for (int i = 0; i < 200; ++i) {
    auto a = sim->run(sim_task(i, "classify"), skilled);
    EXPECT_EQ(a.ok, sim->run(sim_task(i, "classify"), skilled).ok);
    differs_by_attempt += a.ok != sim->run(sim_task(i, "classify", 2), skilled).ok ? 1 : 0;
    differs_by_agent += a.ok != sim->run(sim_task(i, "classify"), other).ok ? 1 : 0;
  }
  EXPECT_GT(differs_by_attempt, 50);
  EXPECT_GT(differs_by_agent, 50);
}

TEST(SimExecutor, LatencyComesFromTheMetadataTimesWork) {
  auto sim = make_sim_executor();
  auto t = sim_task(1, "translate");
  EXPECT_EQ(sim->run(t, skilled).ready_after_ms, 40u);
  t.payload_json = R"({"kind":"translate","work":2.5})";
  EXPECT_EQ(sim->run(t, skilled).ready_after_ms, 100u);
  EXPECT_EQ(sim->run(sim_task(1, "classify"), skilled).ready_after_ms, 7u);
  // No traits at all: skill 0.5, 10 ms.
  EXPECT_EQ(sim->run(sim_task(1, "x"), execution_context{"a", "{}"}).ready_after_ms, 10u);
  auto ok = sim->run(sim_task(3, "translate"), execution_context{"a", R"({"sim":{"default_skill":1}})"});
  ASSERT_TRUE(ok.ok);
  rapidjson::Document d;
  d.Parse(ok.result_json.c_str());
  EXPECT_STREQ(d["kind"].GetString(), "translate");
  EXPECT_EQ(d["skill"].GetDouble(), 1.0);
}

TEST(SimExecutor, BadPayloadFailsForGood) {
  auto sim = make_sim_executor();
  auto t = sim_task(1, "x");
  t.payload_json = R"({"kind":3})";
  auto r = sim->run(t, skilled);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.retryable);
  t.payload_json = R"({"kind":"x","work":-1})";
  EXPECT_FALSE(sim->run(t, skilled).retryable);
  // A simulated failure is the agent's, so another attempt may succeed.
  auto fail = sim->run(sim_task(5, "y"), execution_context{"a", R"({"sim":{"default_skill":0}})"});
  EXPECT_FALSE(fail.ok);
  EXPECT_TRUE(fail.retryable);
}
