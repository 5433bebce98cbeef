// Ready queue: strict priority, FIFO within a level, aging, skipping unmatched entries.
#include "actors/ready_queue.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace hive;
using hive::actors::ready_queue;

namespace {

std::vector<std::string> drain(ready_queue<std::string>& q, timestamp_ms now) {
  std::vector<std::string> out;
  while (q.take_first(now, 100, [&](std::string& s) {
    out.push_back(s);
    return true;
  })) {
  }
  return out;
}

} // namespace

TEST(ReadyQueue, ServesHigherPrioritiesFirstAndFifoWithinALevel) {
  ready_queue<std::string> q{1000};
  q.push(priority::low, 0, "low1");
  q.push(priority::critical, 1, "crit1");
  q.push(priority::medium, 2, "med1");
  q.push(priority::critical, 3, "crit2");
  q.push(priority::high, 4, "high1");
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(q.size(priority::critical), 2u);
  EXPECT_EQ(drain(q, 5),
            (std::vector<std::string>{"crit1", "crit2", "high1", "med1", "low1"}));
  EXPECT_TRUE(q.empty());
}

TEST(ReadyQueue, AgingLetsAnOldLowTaskOvertakeNewerHighOnes) {
  ready_queue<std::string> q{1000};
  q.push(priority::low, 0, "old-low");
  q.push(priority::high, 3500, "new-high");
  // At t=3600 the low task waited 3.6 s: three levels up (low+3 = critical level) > high.
  EXPECT_EQ(drain(q, 3600), (std::vector<std::string>{"old-low", "new-high"}));
}

TEST(ReadyQueue, WithoutEnoughWaitingStrictOrderHolds) {
  ready_queue<std::string> q{1000};
  q.push(priority::low, 0, "low");
  q.push(priority::high, 100, "high");
  EXPECT_EQ(drain(q, 1500), (std::vector<std::string>{"high", "low"}));
}

TEST(ReadyQueue, UnacceptedEntriesKeepTheirPlace) {
  ready_queue<std::string> q{1000};
  q.push(priority::high, 0, "needs-gpu");
  q.push(priority::medium, 1, "plain");
  std::string taken;
  EXPECT_TRUE(q.take_first(2, 10, [&](std::string& s) {
    if (s == "needs-gpu")
      return false;
    taken = s;
    return true;
  }));
  EXPECT_EQ(taken, "plain");
  EXPECT_EQ(drain(q, 3), (std::vector<std::string>{"needs-gpu"}));
}

TEST(ReadyQueue, ScanLimitBoundsTheWork) {
  ready_queue<int> q{1000};
  for (int i = 0; i < 10; ++i)
    q.push(priority::medium, i, i);
  int visited = 0;
  EXPECT_FALSE(q.take_first(20, 3, [&](int&) {
    ++visited;
    return false;
  }));
  EXPECT_EQ(visited, 3);
}

TEST(ReadyQueue, RemoveIf) {
  ready_queue<int> q{1000};
  q.push(priority::low, 0, 1);
  q.push(priority::high, 0, 2);
  EXPECT_TRUE(q.remove_if([](int x) { return x == 1; }));
  EXPECT_FALSE(q.remove_if([](int x) { return x == 1; }));
  EXPECT_EQ(q.size(), 1u);
}
