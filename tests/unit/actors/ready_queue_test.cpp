// Ready queue: strict priority, FIFO within a level, aging, skipping unmatched entries.
#include "actors/dispatch_queue.hpp"
#include "actors/ready_queue.hpp"

#include <memory>
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

namespace {

struct fake_entry {
  std::shared_ptr<task_record> task;
};

fake_entry make_entry(const std::string& id, priority p, std::vector<std::string> caps = {}) {
  auto t = std::make_shared<task_record>();
  t->id = id;
  t->priority = p;
  for (auto& c : caps)
    t->required_capabilities.push_back({c, 0.0});
  return fake_entry{t};
}

} // namespace

TEST(DispatchQueue, AClassNobodyServesIsSkippedAsAWhole) {
  hive::actors::dispatch_queue<fake_entry> q{1000};
  for (int i = 0; i < 500; ++i) {
    auto e = make_entry("gpu" + std::to_string(i), priority::critical, {"gpu"});
    q.push(hive::actors::requirement_class(*e.task), priority::critical, i, e);
  }
  auto plain = make_entry("plain", priority::low);
  q.push(hive::actors::requirement_class(*plain.task), priority::low, 1000, plain);
  EXPECT_EQ(q.classes(), 2u);
  int offers = 0;
  std::string taken;
  EXPECT_TRUE(q.take_one(1001, [&](fake_entry& e) {
    ++offers;
    if (!e.task->required_capabilities.empty())
      return false;
    taken = e.task->id;
    return true;
  }));
  EXPECT_EQ(taken, "plain");
  EXPECT_EQ(offers, 2) << "one look per class, not per task";
  EXPECT_EQ(q.size(priority::critical), 500u);
  EXPECT_EQ(q.size(priority::low), 0u);
}

TEST(DispatchQueue, HeadsAreOfferedByPriorityAcrossClasses) {
  hive::actors::dispatch_queue<fake_entry> q{1000};
  auto a = make_entry("a", priority::medium, {"x"});
  auto b = make_entry("b", priority::high, {"y"});
  q.push(hive::actors::requirement_class(*a.task), priority::medium, 0, a);
  q.push(hive::actors::requirement_class(*b.task), priority::high, 1, b);
  std::string first;
  q.take_one(2, [&](fake_entry& e) {
    first = e.task->id;
    return true;
  });
  EXPECT_EQ(first, "b");
  EXPECT_TRUE(q.remove_if(hive::actors::requirement_class(*a.task),
                          [](const fake_entry& e) { return e.task->id == "a"; }));
  EXPECT_TRUE(q.empty());
}

TEST(DispatchQueue, RequirementClassIgnoresOrder) {
  task_record a;
  a.required_capabilities = {{"x", 0.5}, {"y", 0.1}};
  task_record b;
  b.required_capabilities = {{"y", 0.1}, {"x", 0.5}};
  task_record c;
  c.required_capabilities = {{"x", 0.6}, {"y", 0.1}};
  EXPECT_EQ(hive::actors::requirement_class(a), hive::actors::requirement_class(b));
  EXPECT_NE(hive::actors::requirement_class(a), hive::actors::requirement_class(c));
  EXPECT_EQ(hive::actors::requirement_class(task_record{}), "");
}
