// Ids: well-formed, unique and increasing within a process.
#include "runtime/ids.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

using namespace hive::runtime;

TEST(Ids, AreWellFormedVersion7) {
  auto id = new_id();
  EXPECT_TRUE(looks_like_id(id)) << id;
  EXPECT_EQ(id[14], '7');
  EXPECT_FALSE(looks_like_id("not-an-id"));
  EXPECT_FALSE(looks_like_id(std::string(36, 'x')));
}

TEST(Ids, AreUniqueAndStrictlyIncreasingEvenWithinOneMillisecond) {
  std::set<std::string> seen;
  std::string last;
  for (int i = 0; i < 20000; ++i) {
    auto id = new_id(1'700'000'000'000);
    EXPECT_GT(id, last);
    last = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 20000u);
}
