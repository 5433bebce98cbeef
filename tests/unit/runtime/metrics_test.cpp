// The metrics registry: /proc parsing, the live process figures and the text rendering.
#include "runtime/metrics.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

using namespace hive::runtime;

namespace {

// A real /proc/<pid>/stat line, with a command name holding spaces and a ')'.
constexpr const char* sample_stat =
  "4242 (hive (a) b) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 130 0 0 20 0 7 0 "
  "360000 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

} // namespace

TEST(ProcessStats, ParsesTheStatLine) {
  proc_constants k;
  k.ticks_per_second = 100;
  k.page_size = 4096;
  k.boot_time_seconds = 1'700'000'000;
  auto stats = parse_proc_stat(sample_stat, k);
  ASSERT_TRUE(stats.has_value());
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 3.8);                     // (250 + 130) ticks
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1'700'003'600.0); // boot + 360000 ticks
  EXPECT_DOUBLE_EQ(stats->virtual_bytes, 123456789.0);
  EXPECT_DOUBLE_EQ(stats->resident_bytes, 2048.0 * 4096);
}

TEST(ProcessStats, RejectsMalformedText) {
  proc_constants k;
  EXPECT_FALSE(parse_proc_stat("", k).has_value());
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2 3", k).has_value());
  std::string bad = sample_stat;
  bad.replace(bad.find(" 250 "), 5, " 2x0 ");
  EXPECT_FALSE(parse_proc_stat(bad, k).has_value());
}

TEST(ProcessStats, ReadsBootTime) {
  EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1764240000\nprocesses 9\n"), 1764240000.0);
  EXPECT_FALSE(parse_boot_time("cpu 1 2 3\n").has_value());
}

TEST(ProcessStats, ReadsThisProcess) {
  auto before = read_process_stats();
  ASSERT_TRUE(before.has_value()) << "/proc is not readable";
  EXPECT_GT(before->resident_bytes, 1024.0 * 1024);
  EXPECT_GE(before->cpu_seconds, 0.0);
  EXPECT_GE(before->open_fds, 3.0); // stdin, stdout, stderr
  // Started a moment ago, not in the future (the test binary runs for seconds, give it a day).
  EXPECT_LE(before->start_time_seconds, now_seconds() + 1);
  EXPECT_GT(before->start_time_seconds, now_seconds() - 86400);

  int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  auto during = read_process_stats();
  ::close(fd);
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(during->open_fds, before->open_fds + 1);

  // Burn a little CPU: the counter moves forward.
  volatile double sink = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(60);
  while (std::chrono::steady_clock::now() < until)
    sink = sink + 1;
  auto after = read_process_stats();
  ASSERT_TRUE(after.has_value());
  EXPECT_GT(after->cpu_seconds, before->cpu_seconds);
}

TEST(MetricsRegistry, RendersFamiliesAndProcessFiguresAsText) {
  metrics_registry metrics;
  auto& requests = prometheus::BuildCounter()
                     .Name("hive_test_requests_total")
                     .Help("Requests in a test.")
                     .Register(metrics.registry());
  requests.Add({{"route", "/api/tasks/{id}"}}).Increment(3);
  prometheus::BuildHistogram()
    .Name("hive_test_seconds")
    .Help("Durations in a test.")
    .Register(metrics.registry())
    .Add({}, prometheus::Histogram::BucketBoundaries{0.1, 1})
    .Observe(0.5);

  auto text = metrics.render();
  EXPECT_TRUE(contains(text, "# HELP hive_test_requests_total Requests in a test.\n")) << text;
  EXPECT_TRUE(contains(text, "# TYPE hive_test_requests_total counter\n")) << text;
  EXPECT_TRUE(contains(text, "hive_test_requests_total{route=\"/api/tasks/{id}\"} 3\n")) << text;
  EXPECT_TRUE(contains(text, "# TYPE hive_test_seconds histogram\n")) << text;
  EXPECT_TRUE(contains(text, "hive_test_seconds_bucket{le=\"0.1\"} 0\n")) << text;
  EXPECT_TRUE(contains(text, "hive_test_seconds_bucket{le=\"1\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "hive_test_seconds_bucket{le=\"+Inf\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "hive_test_seconds_count 1\n")) << text;
  EXPECT_TRUE(contains(text, "# TYPE process_cpu_seconds_total counter\n")) << text;
  for (const char* name : {"process_resident_memory_bytes", "process_open_fds",
                           "process_start_time_seconds", "process_virtual_memory_bytes"})
    EXPECT_TRUE(contains(text, std::string{"# TYPE "} + name + " gauge\n")) << name;
  EXPECT_EQ(metrics_registry::content_type, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(MetricsRegistry, ModulesShareOneRegistry) {
  metrics_registry metrics;
  auto shared = metrics.shared_registry();
  ASSERT_EQ(shared.get(), &metrics.registry());
  prometheus::BuildCounter().Name("hive_a_total").Help("a").Register(*shared).Add({}).Increment();
  EXPECT_TRUE(contains(metrics.render(), "hive_a_total 1\n"));
}
