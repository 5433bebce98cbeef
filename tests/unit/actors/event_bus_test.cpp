// Event bus: subscribers get what is published, in order, until they unsubscribe.
#include "actors/event_bus.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

using namespace hive::actors;

TEST(EventBus, DeliversToEverySubscriberUntilItLeaves) {
  event_bus bus;
  EXPECT_FALSE(bus.has_subscribers());
  std::vector<event_type> a;
  std::vector<event_type> b;
  auto ta = bus.subscribe([&](const hive_event& e) { a.push_back(e.type); });
  bus.subscribe([&](const hive_event& e) { b.push_back(e.type); });
  EXPECT_TRUE(bus.has_subscribers());
  hive_event ev;
  ev.type = event_type::task_created;
  bus.publish(ev);
  bus.unsubscribe(ta);
  ev.type = event_type::task_completed;
  bus.publish(ev);
  EXPECT_EQ(a, (std::vector<event_type>{event_type::task_created}));
  EXPECT_EQ(b, (std::vector<event_type>{event_type::task_created, event_type::task_completed}));
  EXPECT_EQ(bus.published(), 2u);
}

TEST(EventBus, PublishingFromManyThreadsWhileSubscribing) {
  event_bus bus;
  std::atomic<int> seen{0};
  bus.subscribe([&](const hive_event&) { ++seen; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      hive_event ev;
      for (int i = 0; i < 1000; ++i)
        bus.publish(ev);
    });
  for (int i = 0; i < 50; ++i)
    bus.unsubscribe(bus.subscribe([](const hive_event&) {}));
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(seen.load(), 4000);
}

TEST(EventBus, NamesRoundTrip) {
  for (int i = 0; i < event_type_count; ++i) {
    auto t = static_cast<event_type>(i);
    event_type back = event_type::task_created;
    ASSERT_TRUE(from_string(to_string(t), back));
    EXPECT_EQ(back, t);
  }
  event_type x = event_type::task_created;
  EXPECT_FALSE(from_string("task_exploded", x));
}
