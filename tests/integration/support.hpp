// Integration-test fixture: a real Hive server in-process on port 0 with a SQLite file.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "actors/executor.hpp"
#include "app/server.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/ws_client.hpp"

namespace hive::test {

/// Parses a JSON body (fails the test if it is not JSON).
rapidjson::Document parse_json(const std::string& body);

/// The string member `key` of `v`, or "" when `v` is no object or the member no string.
std::string str(const rapidjson::Value& v, const char* key);

/// Reads WebSocket messages until one of `type` arrives; nullopt when nothing more comes
/// within `within` (a read that gives up ends the client: see ws_client::read).
std::optional<rapidjson::Document> read_until(ws_client& c, const std::string& type,
                                              std::chrono::milliseconds within
                                              = std::chrono::seconds(5));

/// Executors only the tests register: `test.fail` (always fails, retryable),
/// `test.permanent` (fails, not retryable) and `test.crash` (throws on a task's first attempt,
/// which crashes the agent actor), `test.crash_always` (throws on every attempt) and
/// `test.block` (holds a blocking-pool thread for payload.ms).
void register_test_executors(actors::executor_registry& registry);

class server_fixture : public ::testing::Test {
protected:
  void SetUp() override;
  void TearDown() override;

  /// Settings applied on top of the fixture's defaults, as section.key=value (before start).
  std::vector<std::string> overrides;

  void start();
  void restart();

  http_reply get(const std::string& target);
  http_reply post(const std::string& target, const std::string& body,
                  http_client::header_list headers = {});
  http_reply patch(const std::string& target, const std::string& body);
  http_reply del(const std::string& target);

  /// Creates an agent from a JSON body; returns its id.
  std::string create_agent(const std::string& body);
  /// Submits a task from a JSON body; returns its id.
  std::string submit(const std::string& body);
  /// Polls until the task is in a terminal state (or the deadline passes); returns its JSON.
  rapidjson::Document wait_terminal(const std::string& id,
                                    std::chrono::milliseconds within = std::chrono::seconds(10));
  /// Polls GET target until `pred(json)` holds.
  bool wait_until(const std::string& target, const std::function<bool(const rapidjson::Document&)>& pred,
                  std::chrono::milliseconds within = std::chrono::seconds(10));

  std::filesystem::path dir;
  std::unique_ptr<app::server> srv;
  std::unique_ptr<http_client> client;
};

} // namespace hive::test
