// Resource readings: parsing /proc/meminfo and cgroup limits, and live percentages.
#include "runtime/resources.hpp"

#include <gtest/gtest.h>

using namespace hive::runtime;

TEST(Resources, ParsesMemTotal) {
  auto total = parse_meminfo_total("MemTotal:       24576000 kB\nMemFree:         1000 kB\n");
  ASSERT_TRUE(total);
  EXPECT_DOUBLE_EQ(*total, 24576000.0 * 1024);
  EXPECT_FALSE(parse_meminfo_total("MemFree: 1 kB\n"));
  EXPECT_FALSE(parse_meminfo_total("MemTotal: lots kB\n"));
}

TEST(Resources, ParsesCgroupLimits) {
  EXPECT_DOUBLE_EQ(*parse_cgroup_memory_max("1073741824\n"), 1073741824.0);
  EXPECT_FALSE(parse_cgroup_memory_max("max\n"));
  EXPECT_DOUBLE_EQ(*parse_cgroup_cpu_max("150000 100000\n"), 1.5);
  EXPECT_FALSE(parse_cgroup_cpu_max("max 100000\n"));
  EXPECT_FALSE(parse_cgroup_cpu_max("garbage"));
}

TEST(Resources, SamplerMeasuresThisProcess) {
  resource_sampler sampler;
  EXPECT_GE(sampler.cpus(), 0.01);
  EXPECT_GT(sampler.memory_limit_bytes(), 0);
  // Burn some CPU so the reading has something to show.
  volatile double x = 0;
  for (int i = 0; i < 20'000'000; ++i)
    x = x + i * 0.5;
  auto r = sampler.sample();
  EXPECT_GT(r.cpu_percent, 0);
  EXPECT_LE(r.cpu_percent, 100);
  EXPECT_GT(r.resident_bytes, 0);
  EXPECT_GT(r.memory_percent, 0);
  EXPECT_LT(r.memory_percent, 100);
  EXPECT_GT(r.open_fds, 0);
}
