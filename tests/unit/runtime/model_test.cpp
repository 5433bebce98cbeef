// Model enums: names round-trip, terminal states.
#include "runtime/model.hpp"

#include <gtest/gtest.h>

using namespace hive;

TEST(Model, EnumNamesRoundTrip) {
  for (int i = 0; i < task_status_count; ++i) {
    auto st = static_cast<task_status>(i);
    task_status back = task_status::pending;
    ASSERT_TRUE(from_string(to_string(st), back));
    EXPECT_EQ(back, st);
  }
  priority p = priority::low;
  EXPECT_TRUE(from_string("critical", p));
  EXPECT_EQ(p, priority::critical);
  EXPECT_FALSE(from_string("urgent", p));
  agent_type t = agent_type::worker;
  EXPECT_TRUE(from_string("learner", t));
  EXPECT_EQ(t, agent_type::learner);
}

TEST(Model, TerminalStates) {
  EXPECT_TRUE(is_terminal(task_status::completed));
  EXPECT_TRUE(is_terminal(task_status::dead));
  EXPECT_FALSE(is_terminal(task_status::queued));
  EXPECT_FALSE(is_terminal(task_status::running));
}

TEST(Model, AgentProficiencyLookup) {
  agent_record a;
  a.capabilities = {{"nlp", 0.8, 0.1}};
  EXPECT_DOUBLE_EQ(*a.proficiency("nlp"), 0.8);
  EXPECT_FALSE(a.proficiency("vision").has_value());
}
