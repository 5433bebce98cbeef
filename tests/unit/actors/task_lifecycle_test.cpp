// Task state machine and retry policy.
#include "actors/task_lifecycle.hpp"

#include <gtest/gtest.h>

using namespace hive;
using namespace hive::actors;

TEST(TaskLifecycle, LegalAndIllegalTransitions) {
  EXPECT_TRUE(can_transition(task_status::pending, task_status::queued));
  EXPECT_TRUE(can_transition(task_status::queued, task_status::running));
  EXPECT_TRUE(can_transition(task_status::running, task_status::completed));
  EXPECT_TRUE(can_transition(task_status::running, task_status::queued)) << "retry";
  EXPECT_TRUE(can_transition(task_status::dead, task_status::queued)) << "manual retry";
  EXPECT_FALSE(can_transition(task_status::completed, task_status::queued));
  EXPECT_FALSE(can_transition(task_status::pending, task_status::running));
  EXPECT_FALSE(can_transition(task_status::queued, task_status::completed));
}

TEST(TaskLifecycle, FinalFailureStatus) {
  EXPECT_EQ(final_failure_status(true, 3), task_status::dead);
  EXPECT_EQ(final_failure_status(true, 0), task_status::failed);
  EXPECT_EQ(final_failure_status(false, 3), task_status::failed);
}

TEST(RetryPolicy, BackoffDoublesUpToTheCap) {
  retry_policy p{100, 1000};
  EXPECT_EQ(p.delay_ms(1), 100u);
  EXPECT_EQ(p.delay_ms(2), 200u);
  EXPECT_EQ(p.delay_ms(3), 400u);
  EXPECT_EQ(p.delay_ms(4), 800u);
  EXPECT_EQ(p.delay_ms(5), 1000u);
  EXPECT_EQ(p.delay_ms(60), 1000u);
}

TEST(RetryPolicy, RetriesOnlyRetryableFailuresWithinTheBudget) {
  EXPECT_TRUE(retry_policy::should_retry(true, 1, 2));
  EXPECT_TRUE(retry_policy::should_retry(true, 2, 2));
  EXPECT_FALSE(retry_policy::should_retry(true, 3, 2));
  EXPECT_FALSE(retry_policy::should_retry(false, 1, 2));
  EXPECT_FALSE(retry_policy::should_retry(true, 1, 0));
}
