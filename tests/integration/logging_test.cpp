// Structured logs end to end: JSON access lines whose request ids match the error bodies.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "runtime/config.hpp"
#include "runtime/log.hpp"
#include "tests/integration/support.hpp"

using namespace hive::test;

namespace {

/// Sends this process's stderr to a file while alive; `lines()` reads what was written.
class stderr_capture {
public:
  stderr_capture() {
    std::fflush(stderr);
    saved_ = dup(2);
    int fd = mkstemp(path_);
    dup2(fd, 2);
    close(fd);
  }
  ~stderr_capture() { restore(); }

  void restore() {
    if (saved_ < 0)
      return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }

  std::vector<std::string> lines() {
    restore();
    std::ifstream in{path_};
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
      out.push_back(line);
    std::remove(path_);
    return out;
  }

private:
  char path_[32] = "/tmp/hive_log_XXXXXX";
  int saved_ = -1;
};

void set_logging(const std::string& level, const std::string& format) {
  hive::runtime::log_config cfg;
  cfg.level = level;
  cfg.format = format;
  hive::runtime::configure_logging(cfg);
}

} // namespace

class Logging : public server_fixture {
protected:
  void TearDown() override {
    server_fixture::TearDown();
    set_logging("warn", "text");
  }
};

TEST_F(Logging, ErrorResponsesGetJsonAccessLinesWithTheirRequestId) {
  start();
  set_logging("info", "json");
  std::string not_found_id;
  {
    stderr_capture capture;
    auto res = get("/api/tasks/no-such-task?x=1");
    ASSERT_EQ(res.status, 404u);
    not_found_id = parse_json(res.body)["error"]["request_id"].GetString();
    ASSERT_FALSE(not_found_id.empty());
    auto bad = post("/api/tasks", "{nope", {{"Content-Type", "application/json"}, {"X-Request-Id", "client-chosen-7"}});
    ASSERT_EQ(bad.status, 400u);
    EXPECT_STREQ(parse_json(bad.body)["error"]["request_id"].GetString(), "client-chosen-7");
    ASSERT_EQ(get("/health").status, 200u); // a success: no line by default
    auto lines = capture.lines();
    std::vector<rapidjson::Document> access;
    for (const auto& line : lines) {
      rapidjson::Document doc;
      doc.Parse(line.c_str());
      ASSERT_FALSE(doc.HasParseError()) << "not one JSON object per line: " << line;
      if (std::string{doc["component"].GetString()} == "http.access")
        access.push_back(std::move(doc));
    }
    ASSERT_EQ(access.size(), 2u);
    EXPECT_EQ(std::string{access[0]["request_id"].GetString()}, not_found_id);
    EXPECT_EQ(access[0]["status"].GetInt(), 404);
    EXPECT_STREQ(access[0]["method"].GetString(), "GET");
    EXPECT_STREQ(access[0]["target"].GetString(), "/api/tasks/no-such-task?x=1");
    EXPECT_GE(access[0]["duration_ms"].GetDouble(), 0);
    EXPECT_STREQ(access[0]["peer"].GetString(), "127.0.0.1");
    EXPECT_STREQ(access[0]["level"].GetString(), "info");
    EXPECT_STREQ(access[1]["request_id"].GetString(), "client-chosen-7");
    EXPECT_EQ(access[1]["status"].GetInt(), 400);
  }
}

TEST_F(Logging, AllModeLogsSuccessesAsText) {
  overrides.push_back("log.access=all");
  start();
  set_logging("info", "text");
  stderr_capture capture;
  ASSERT_EQ(get("/health").status, 200u);
  auto lines = capture.lines();
  bool found = false;
  for (const auto& line : lines)
    if (line.find("[http.access] GET /health 200") != std::string::npos) {
      found = true;
      EXPECT_NE(line.find(" status=200"), std::string::npos) << line;
      EXPECT_NE(line.find(" request_id="), std::string::npos) << line;
    }
  EXPECT_TRUE(found);
}
