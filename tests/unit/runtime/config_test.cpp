// Configuration: defaults, precedence of file < environment < flags, validation messages.
#include "runtime/config.hpp"

#include "build_config.hpp"

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

using namespace hive;
using namespace hive::runtime;

namespace {

std::string write_temp_file(const std::string& text) {
  char path[] = "/tmp/hive_config_test_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream{path} << text;
  return path;
}

} // namespace

TEST(Config, DefaultsMatchTheDocumentedValues) {
  auto cfg = default_config();
  EXPECT_EQ(cfg.server.port, 3001);
  EXPECT_EQ(cfg.server.host, "0.0.0.0");
  EXPECT_EQ(cfg.server.keep_alive_timeout_secs, 75u);
  EXPECT_EQ(cfg.database.url, "sqlite://data/hive.db");
  EXPECT_GE(cfg.performance.worker_threads, 1u);
  EXPECT_EQ(cfg.performance.scheduler_policy, "stealing");
}

TEST(Config, EveryDefaultIsValidAndListed) {
  for (const auto& s : settings()) {
    auto cfg = default_config();
    EXPECT_TRUE(set_value(cfg, s.section, s.key, s.default_value).ok()) << s.env_name();
    EXPECT_FALSE(s.help.empty()) << s.env_name();
  }
}

TEST(Config, EnvironmentOverridesFileAndFlagsOverrideEnvironment) {
  auto file = write_temp_file("# comment\n[server]\nport = 4000\nmax_connections = 7\n");
  config_sources src;
  src.file_path = file;
  src.environment = {"HIVE_SERVER__PORT=5000", "PATH=/usr/bin"};
  auto cfg = load_config(src);
  ASSERT_TRUE(cfg.ok()) << cfg.err().message;
  EXPECT_EQ(cfg->server.port, 5000);
  EXPECT_EQ(cfg->server.max_connections, 7u);
  src.flags = {"server.port=6000"};
  cfg = load_config(src);
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->server.port, 6000);
  std::remove(file.c_str());
}

TEST(Config, BadValueNamesTheSettingAndItsOrigin) {
  config_sources src;
  src.environment = {"HIVE_SERVER__PORT=70000"};
  auto cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.err().message.find("HIVE_SERVER__PORT"), std::string::npos);
  EXPECT_NE(cfg.err().message.find("environment"), std::string::npos);
  EXPECT_EQ(cfg.err().field, "server.port");

  src.environment = {"HIVE_PERFORMANCE__WORKER_THREADS=lots"};
  cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.err().message.find("auto"), std::string::npos);

  src.environment = {"HIVE_DATABASE__URL=mysql://x"};
  EXPECT_FALSE(load_config(src).ok());
}

TEST(Config, BadFileLineIsReportedWithItsLineNumber) {
  auto file = write_temp_file("[server]\nport = 1\nthis line is wrong\n");
  config_sources src;
  src.file_path = file;
  auto cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.err().message.find(":3"), std::string::npos) << cfg.err().message;
  std::remove(file.c_str());
}

TEST(Config, UnknownHiveVariablesAreReportedNotFatal) {
  config_sources src;
  src.environment = {"HIVE_SERVER__PROT=1", "HIVE_NONSENSE=2", "HOME=/root"};
  auto cfg = load_config(src);
  ASSERT_TRUE(cfg.ok());
  ASSERT_EQ(cfg->warnings.size(), 2u);
  EXPECT_NE(cfg->warnings[0].find("HIVE_SERVER__PROT"), std::string::npos);
}

TEST(Config, AutoThreadsResolveToAtLeastOne) {
  config_sources src;
  src.environment = {"HIVE_PERFORMANCE__WORKER_THREADS=auto", "HIVE_SERVER__IO_THREADS=3"};
  auto cfg = load_config(src);
  ASSERT_TRUE(cfg.ok());
  EXPECT_GE(cfg->performance.worker_threads, 1u);
  EXPECT_EQ(cfg->server.io_threads, 3u);
}

TEST(Config, MalformedFlagIsRejected) {
  config_sources src;
  src.flags = {"port3001"};
  EXPECT_FALSE(load_config(src).ok());
  src.flags = {"server.nope=1"};
  EXPECT_FALSE(load_config(src).ok());
}

TEST(Config, CrossFieldChecks) {
  config_sources src;
  src.environment = {"HIVE_TASKS__DEFAULT_TIMEOUT_MS=5000", "HIVE_TASKS__MAX_TIMEOUT_MS=1000"};
  auto cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.err().message.find("DEFAULT_TIMEOUT_MS"), std::string::npos);
}

TEST(Config, MetricsAreOnByDefaultAndCanBeSwitchedOff) {
  EXPECT_TRUE(default_config().metrics.enabled);
  config_sources src;
  src.environment = {"HIVE_METRICS__ENABLED=false"};
  auto cfg = load_config(src);
  ASSERT_TRUE(cfg.ok()) << cfg.err().message;
  EXPECT_FALSE(cfg->metrics.enabled);
  src.flags = {"metrics.enabled=TRUE"};
  cfg = load_config(src);
  ASSERT_TRUE(cfg.ok()) << cfg.err().message;
  EXPECT_TRUE(cfg->metrics.enabled);
  src.flags = {"metrics.enabled=maybe"};
  cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.err().message.find("HIVE_METRICS__ENABLED"), std::string::npos)
    << cfg.err().message;
}

TEST(Config, AlertThresholdsAndHistory) {
  auto d = default_config();
  EXPECT_EQ(d.performance.cpu_warning_threshold, 70u);
  EXPECT_EQ(d.performance.cpu_critical_threshold, 90u);
  EXPECT_EQ(d.performance.memory_warning_threshold, 80u);
  EXPECT_EQ(d.performance.memory_critical_threshold, 95u);
  EXPECT_EQ(d.metrics.history_interval_secs, 10u);
  config_sources src;
  src.environment = {"HIVE_PERFORMANCE__CPU_WARNING_THRESHOLD=50",
                     "HIVE_METRICS__HISTORY_RETENTION=60"};
  auto cfg = load_config(src);
  ASSERT_TRUE(cfg.ok()) << cfg.err().message;
  EXPECT_EQ(cfg->performance.cpu_warning_threshold, 50u);
  EXPECT_EQ(cfg->metrics.history_retention, 60u);
  // A warning above its critical threshold is refused, naming the setting.
  src.environment = {"HIVE_PERFORMANCE__MEMORY_WARNING_THRESHOLD=99"};
  cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.err().message.find("HIVE_PERFORMANCE__MEMORY_WARNING_THRESHOLD"),
            std::string::npos)
    << cfg.err().message;
  src.environment = {"HIVE_PERFORMANCE__CPU_CRITICAL_THRESHOLD=101"};
  EXPECT_FALSE(load_config(src).ok());
}

TEST(Config, NeuralModeIsAutoAndCudaNeedsABuildWithIt) {
  EXPECT_EQ(default_config().neural.mode, "auto");
  config_sources src;
  src.environment = {"HIVE_NEURAL__MODE=cuda"};
  auto cfg = load_config(src);
#if HIVE_ENABLE_CUDA
  ASSERT_TRUE(cfg.ok()) << cfg.err().message;
  EXPECT_EQ(cfg->neural.mode, "cuda");
#else
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.err().message.find("no CUDA path"), std::string::npos);
#endif
  src.environment = {"HIVE_NEURAL__MODE=gpu"};
  cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.err().message.find("basic fann cuda auto"), std::string::npos);
}

TEST(Config, ClusterModeNeedsPostgresqlANodeIdAndASecret) {
  config_sources src;
  src.environment = {"HIVE_CLUSTER__ENABLED=true", "HIVE_CLUSTER__NODE_ID=n1",
                     "HIVE_CLUSTER__SECRET=s"};
  auto cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.err().field, "database.url");
  src.environment = {"HIVE_CLUSTER__ENABLED=true", "HIVE_DATABASE__URL=postgresql://h/db",
                     "HIVE_CLUSTER__SECRET=s"};
  cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.err().field, "cluster.node_id");
  src.environment = {"HIVE_CLUSTER__ENABLED=true", "HIVE_DATABASE__URL=postgresql://h/db",
                     "HIVE_CLUSTER__NODE_ID=n1"};
  cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.err().field, "cluster.secret");
  src.environment = {"HIVE_CLUSTER__ENABLED=true", "HIVE_DATABASE__URL=postgresql://h/db",
                     "HIVE_CLUSTER__NODE_ID=n1", "HIVE_CLUSTER__SECRET=s",
                     "HIVE_CLUSTER__SEEDS=a:4100, b:4101"};
  cfg = load_config(src);
  ASSERT_TRUE(cfg.ok()) << cfg.err().message;
  EXPECT_EQ(cfg->cluster.seeds, (std::vector<std::string>{"a:4100", "b:4101"}));
  src.environment = {"HIVE_CLUSTER__SEEDS=a:notaport"};
  EXPECT_FALSE(load_config(src).ok());
}

TEST(Config, ClusterTlsNeedsAllThreeReadableFiles) {
  config_sources src;
  src.environment = {"HIVE_CLUSTER__ENABLED=true", "HIVE_DATABASE__URL=postgresql://h/db",
                     "HIVE_CLUSTER__NODE_ID=n1", "HIVE_CLUSTER__SECRET=s",
                     "HIVE_CLUSTER__TLS_CERTIFICATE=/etc/hostname"};
  auto cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.err().message.find("together"), std::string::npos);
  src.environment.push_back("HIVE_CLUSTER__TLS_KEY=/nonexistent/key.pem");
  src.environment.push_back("HIVE_CLUSTER__TLS_CA_FILE=/etc/hostname");
  cfg = load_config(src);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.err().field, "cluster.tls_key");
}
