// Agent directory and routing: eligibility, scoring, capacity and state book-keeping.
#include "actors/agent_directory.hpp"

#include <map>

#include <gtest/gtest.h>

using namespace hive;
using namespace hive::actors;

namespace {

agent_record agent(std::string id, std::vector<capability> caps, uint32_t max = 1) {
  agent_record a;
  a.id = std::move(id);
  a.name = a.id;
  a.capabilities = std::move(caps);
  a.max_concurrency = max;
  return a;
}

task_record task_needing(std::vector<capability_requirement> reqs) {
  task_record t;
  t.type = "echo";
  t.required_capabilities = std::move(reqs);
  return t;
}

} // namespace

TEST(AgentDirectory, SelectsOnlyAgentsMeetingEveryRequirement) {
  agent_directory dir;
  heuristic_scorer scorer;
  dir.add(agent("a", {{"nlp", 0.3, 0.1}}));
  dir.add(agent("b", {{"nlp", 0.8, 0.1}, {"vision", 0.6, 0.1}}));
  auto* picked = dir.select(task_needing({{"nlp", 0.5}}), scorer, 32);
  ASSERT_NE(picked, nullptr);
  EXPECT_EQ(picked->record.id, "b");
  EXPECT_EQ(dir.select(task_needing({{"nlp", 0.5}, {"vision", 0.7}}), scorer, 32), nullptr);
  EXPECT_EQ(dir.select(task_needing({{"audio", 0.0}}), scorer, 32), nullptr);
}

TEST(AgentDirectory, PrefersProficiencyThenFreeCapacity) {
  agent_directory dir;
  heuristic_scorer scorer;
  dir.add(agent("low", {{"nlp", 0.4, 0.1}}, 4));
  dir.add(agent("high", {{"nlp", 0.9, 0.1}}, 4));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(dir.select(task_needing({{"nlp", 0.0}}), scorer, 32)->record.id, "high");
}

TEST(AgentDirectory, CapacityAndStateFollowReservations) {
  agent_directory dir;
  heuristic_scorer scorer;
  auto& a = dir.add(agent("a", {}, 2));
  EXPECT_TRUE(dir.any_available());
  dir.reserve(a, 1);
  EXPECT_EQ(a.record.state, agent_state::working);
  dir.reserve(a, 2);
  EXPECT_FALSE(dir.any_available()) << "at max_concurrency";
  EXPECT_EQ(dir.select(task_needing({}), scorer, 32), nullptr);
  dir.release(a, true, 10.0, true, 3);
  dir.release(a, false, 0, true, 4);
  EXPECT_EQ(a.record.state, agent_state::idle);
  EXPECT_EQ(a.record.tasks_completed, 1u);
  EXPECT_EQ(a.record.tasks_failed, 1u);
  EXPECT_DOUBLE_EQ(a.record.mean_latency_ms, 10.0);
  EXPECT_TRUE(dir.any_available());
}

TEST(AgentDirectory, PausedAgentsGetNoWorkUntilResumed) {
  agent_directory dir;
  heuristic_scorer scorer;
  auto& a = dir.add(agent("a", {{"x", 0.5, 0.1}}));
  agent_patch pause;
  pause.state = agent_state::paused;
  dir.apply(a, pause, 1);
  EXPECT_EQ(dir.select(task_needing({{"x", 0}}), scorer, 32), nullptr);
  agent_patch resume;
  resume.state = agent_state::idle;
  dir.apply(a, resume, 2);
  EXPECT_NE(dir.select(task_needing({{"x", 0}}), scorer, 32), nullptr);
}

TEST(AgentDirectory, CapabilityChangesAndRemovalUpdateTheIndex) {
  agent_directory dir;
  heuristic_scorer scorer;
  auto& a = dir.add(agent("a", {{"x", 0.5, 0.1}}));
  agent_patch p;
  p.capabilities = std::vector<capability>{{"y", 0.5, 0.1}};
  dir.apply(a, p, 1);
  EXPECT_EQ(dir.select(task_needing({{"x", 0}}), scorer, 32), nullptr);
  EXPECT_NE(dir.select(task_needing({{"y", 0}}), scorer, 32), nullptr);
  dir.remove("a");
  EXPECT_EQ(dir.select(task_needing({{"y", 0}}), scorer, 32), nullptr);
  EXPECT_FALSE(dir.any_available());
  EXPECT_EQ(dir.size(), 0u);
}

TEST(AgentDirectory, EqualAgentsShareTheWork) {
  agent_directory dir;
  heuristic_scorer scorer;
  for (int i = 0; i < 4; ++i)
    dir.add(agent("a" + std::to_string(i), {}, 100));
  std::map<std::string, int> picks;
  for (int i = 0; i < 40; ++i) {
    auto* e = dir.select(task_needing({}), scorer, 1);
    ++picks[e->record.id];
  }
  EXPECT_EQ(picks.size(), 4u);
}

TEST(AgentDirectory, AgentsOfOtherNodesAreMirroredAndFollowTheirNode) {
  agent_directory dir;
  heuristic_scorer scorer;
  auto rec = agent("far", {{"gpu", 0.9, 0.1}}, 2);
  rec.node_id = "n2";
  dir.upsert_remote(rec, caf::actor{}, 0);
  EXPECT_EQ(dir.remote_count(), 1u);
  auto* picked = dir.select(task_needing({{"gpu", 0.5}}), scorer, 32);
  ASSERT_NE(picked, nullptr) << "remote agents are routed to like local ones";
  EXPECT_TRUE(picked->remote);
  EXPECT_EQ(dir.select(task_needing({{"gpu", 0.5}}), scorer, 32, {}, true), nullptr)
    << "unless the task must stay on this node";

  // Its node reports it busy: full as far as this node knows, even with nothing reserved here.
  dir.upsert_remote(rec, caf::actor{}, 2);
  EXPECT_EQ(dir.select(task_needing({{"gpu", 0.5}}), scorer, 32), nullptr);
  // A report may lag what this node itself reserved: the larger of the two counts.
  dir.upsert_remote(rec, caf::actor{}, 0);
  dir.reserve(*dir.find("far"), 1);
  dir.reserve(*dir.find("far"), 2);
  EXPECT_EQ(dir.select(task_needing({{"gpu", 0.5}}), scorer, 32), nullptr);
  dir.release(*dir.find("far"), true, 1.0, true, 3);
  EXPECT_NE(dir.select(task_needing({{"gpu", 0.5}}), scorer, 32), nullptr);

  // New capabilities come with the next report; the lost node's agents go offline.
  rec.capabilities = {{"audio", 0.7, 0.1}};
  dir.upsert_remote(rec, caf::actor{}, 0);
  EXPECT_EQ(dir.select(task_needing({{"gpu", 0.0}}), scorer, 32), nullptr);
  EXPECT_NE(dir.select(task_needing({{"audio", 0.5}}), scorer, 32), nullptr);
  dir.set_node_offline("n2", 4);
  EXPECT_EQ(dir.find("far")->record.state, agent_state::offline);
  EXPECT_FALSE(dir.any_available());
  dir.upsert_remote(rec, caf::actor{}, 0); // its node is back and reports it idle
  EXPECT_TRUE(dir.any_available());
  dir.remove("far");
  EXPECT_EQ(dir.remote_count(), 0u);
}

TEST(HeuristicScorer, SuccessRateCounts) {
  agent_record good;
  good.tasks_completed = 50;
  agent_record bad;
  bad.tasks_failed = 50;
  heuristic_scorer s;
  task_record t;
  EXPECT_GT(s.score(t, good, 0), s.score(t, bad, 0));
}

TEST(LearnProficiency, OutcomesMoveRequiredCapabilitiesByTheirLearningRate) {
  agent_record a;
  a.capabilities = {{"translate", 0.5, 0.2}, {"summarize", 0.5, 0.1}, {"frozen", 0.5, 0.0}};
  task_record t;
  t.type = "nlp.analyze";
  t.required_capabilities = {{"translate", 0.0}, {"frozen", 0.0}};
  EXPECT_TRUE(learn_proficiency(a, t, true));
  EXPECT_DOUBLE_EQ(a.capabilities[0].proficiency, 0.6); // 0.5 + 0.2 * (1 - 0.5)
  EXPECT_DOUBLE_EQ(a.capabilities[1].proficiency, 0.5); // not required: unchanged
  EXPECT_DOUBLE_EQ(a.capabilities[2].proficiency, 0.5); // learning_rate 0: fixed
  learn_proficiency(a, t, false);
  EXPECT_DOUBLE_EQ(a.capabilities[0].proficiency, 0.48); // 0.6 + 0.2 * (0 - 0.6)

  // Without requirements, the capability named like the task type learns.
  task_record typed;
  typed.type = "summarize";
  EXPECT_TRUE(learn_proficiency(a, typed, false));
  EXPECT_DOUBLE_EQ(a.capabilities[1].proficiency, 0.45);
  typed.type = "echo";
  EXPECT_FALSE(learn_proficiency(a, typed, true));
}
